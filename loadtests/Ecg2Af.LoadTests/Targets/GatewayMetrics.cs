using System.Globalization;
using System.Text.RegularExpressions;
using Ecg2Af.LoadTests.Reporting;

namespace Ecg2Af.LoadTests.Targets;

/// <summary>
/// Reads the gateway's per-destination counter from its Prometheus <c>/metrics</c> page (black-box, over HTTP) and
/// turns two readings into the attempts each destination received in between.
/// </summary>
public static partial class GatewayMetrics
{
    /// <summary>The gateway's count of attempts forwarded to each worker (labels destination and code).</summary>
    public const string UpstreamRequests = "ecg2af_gateway_upstream_requests_total";

    /// <summary>Sums <paramref name="metric"/> by its <c>destination</c> label in a Prometheus text page; null when absent.</summary>
    public static Dictionary<string, double>? Parse(string page, string metric = UpstreamRequests)
    {
        ArgumentNullException.ThrowIfNull(page);
        Dictionary<string, double>? sums = null;
        foreach (var line in page.Split('\n'))
        {
            if (!line.StartsWith(metric + "{", StringComparison.Ordinal) && !line.StartsWith(metric + " ", StringComparison.Ordinal))
            {
                continue;
            }

            sums ??= new Dictionary<string, double>(StringComparer.Ordinal);
            var match = Sample().Match(line);
            if (!match.Success)
            {
                continue;
            }

            var destination = Label().Matches(match.Groups["labels"].Value)
                .FirstOrDefault(m => m.Groups["name"].Value == "destination")?.Groups["value"].Value ?? "(none)";
            var value = double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            sums[destination] = sums.GetValueOrDefault(destination) + value;
        }

        return sums;
    }

    public static async Task<Dictionary<string, double>?> ReadAsync(HttpClient client, Uri target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            using var response = await client.GetAsync(new Uri(target, "/metrics"), cancellationToken);
            return response.IsSuccessStatusCode ? Parse(await response.Content.ReadAsStringAsync(cancellationToken)) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The per-destination difference between two readings (destinations new in the second count from zero).</summary>
    public static GatewayDestinations Difference(Dictionary<string, double>? before, Dictionary<string, double>? after)
    {
        if (after is null)
        {
            return new GatewayDestinations(UpstreamRequests, new Dictionary<string, double>(),
                $"the gateway's /metrics has no {UpstreamRequests} (per-destination metrics not available on this gateway)");
        }

        var attempts = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (destination, value) in after)
        {
            var delta = value - (before?.GetValueOrDefault(destination) ?? 0);
            if (delta > 0)
            {
                attempts[destination] = delta;
            }
        }

        return new GatewayDestinations(UpstreamRequests, attempts, attempts.Count == 0 ? "no attempts counted" : null);
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?<labels>[^}]*)\})?\s+(?<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
