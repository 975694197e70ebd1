using System.Diagnostics;
using Ecg2Af.Inference.Scoring;

namespace Ecg2Af.Worker.Predictions;

/// <summary>
/// Runs inference off the request threads, one run at a time per worker, so ONNX Runtime's intra-op threads are not
/// oversubscribed by concurrent runs.
/// </summary>
internal sealed class InferenceExecutor : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<(float[][] Outputs, IReadOnlyDictionary<string, double> TimingsMs)> RunAsync(
        LoadedModel model, float[] input, CancellationToken cancellationToken)
    {
        var queued = Stopwatch.GetTimestamp();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var outputs = await Task.Run(() => model.Runner.Run(input, 1), CancellationToken.None);
            var timings = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["queue"] = Stopwatch.GetElapsedTime(queued, started).TotalMilliseconds,
                ["inference"] = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            };
            return (outputs, timings);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
