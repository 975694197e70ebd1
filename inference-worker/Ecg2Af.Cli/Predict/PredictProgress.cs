using System.Diagnostics;
using System.Globalization;
using Ecg2Af.Inference.Batch;

namespace Ecg2Af.Cli.Predict;

/// <summary>
/// Progress on standard error: on a terminal a bar redrawn in place with the rate and the time left; when standard
/// error is redirected, a plain line every few seconds. Keeps the counts for the summary.
/// </summary>
internal sealed class PredictProgress(int total, bool enabled)
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;

    public int Done { get; private set; }

    public int Failed { get; private set; }

    /// <summary>Failed records by status and title.</summary>
    public SortedDictionary<string, int> Reasons { get; } = new(StringComparer.Ordinal);

    public TimeSpan Elapsed => _clock.Elapsed;

    public double Rate => Done / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);

    public void Add(BatchItem item)
    {
        Done++;
        if (!item.Succeeded)
        {
            Failed++;
            var reason = item.Error is { } e ? $"{e.Status} {e.Title}" : item.Status.ToString(CultureInfo.InvariantCulture);
            Reasons[reason] = Reasons.GetValueOrDefault(reason) + 1;
        }

        Draw(force: Done == total);
    }

    /// <summary>Ends the bar's line.</summary>
    public void Finish()
    {
        if (enabled && _terminal && total > 0)
        {
            Draw(force: true);
            Console.Error.WriteLine();
        }
    }

    private void Draw(bool force)
    {
        if (!enabled || total == 0)
        {
            return;
        }

        var now = _clock.Elapsed;
        if (!force && _lastDraw is { } last && now - last < (_terminal ? TimeSpan.FromMilliseconds(100) : LineInterval))
        {
            return;
        }

        _lastDraw = now;
        var fraction = (double)Done / total;
        var left = Rate > 0 ? TimeSpan.FromSeconds((total - Done) / Rate) : TimeSpan.Zero;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{Done}/{total} ({fraction * 100:F0}%) · {Rate:F1} records/s · ETA {Clock(left)}{(Failed > 0 ? $" · {Failed} failed" : "")}");
        if (_terminal)
        {
            const int width = 30;
            var filled = (int)Math.Round(fraction * width);
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {text}   ");
        }
        else
        {
            Console.Error.WriteLine($"predict: {text}");
        }
    }

    public static string Clock(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
