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

    /// <summary>Requests the gateway answered itself (label reason: rate_limited, concurrency_limited, …).</summary>
    public const string Rejected = "ecg2af_gateway_rejected_requests_total";

    /// <summary>Sums <paramref name="metric"/> by its <paramref name="label"/> in a Prometheus text page; null when absent.</summary>
    public static Dictionary<string, double>? Parse(string page, string metric = UpstreamRequests, string label = "destination")
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
                .FirstOrDefault(m => m.Groups["name"].Value == label)?.Groups["value"].Value ?? "(none)";
            var value = double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            sums[destination] = sums.GetValueOrDefault(destination) + value;
        }

        return sums;
    }

    /// <summary>One reading of the gateway's page: attempts by destination and rejections by reason (null when absent).</summary>
    public static async Task<(Dictionary<string, double>? Attempts, Dictionary<string, double>? Rejected)> ReadAsync(
        HttpClient client, Uri target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            using var response = await client.GetAsync(new Uri(target, "/metrics"), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, null);
            }

            var page = await response.Content.ReadAsStringAsync(cancellationToken);
            return (Parse(page), Parse(page, Rejected, "reason"));
        }
        catch (HttpRequestException)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// What the gateway counted between two readings: attempts per destination and rejections per reason (series
    /// new in the second reading count from zero).
    /// </summary>
    public static GatewayDestinations Difference(
        (Dictionary<string, double>? Attempts, Dictionary<string, double>? Rejected) before,
        (Dictionary<string, double>? Attempts, Dictionary<string, double>? Rejected) after)
    {
        if (after.Attempts is null)
        {
            return new GatewayDestinations(UpstreamRequests, new Dictionary<string, double>(),
                $"the gateway's /metrics has no {UpstreamRequests} (per-destination metrics not available on this gateway)")
            {
                Rejected = Delta(before.Rejected, after.Rejected),
            };
        }

        var attempts = Delta(before.Attempts, after.Attempts);
        return new GatewayDestinations(UpstreamRequests, attempts, attempts.Count == 0 ? "no attempts counted" : null)
        {
            Rejected = Delta(before.Rejected, after.Rejected),
        };
    }

    /// <summary>The per-label difference between two readings (labels new in the second count from zero).</summary>
    public static SortedDictionary<string, double> Delta(Dictionary<string, double>? before, Dictionary<string, double>? after)
    {
        var delta = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in after ?? [])
        {
            var d = value - (before?.GetValueOrDefault(key) ?? 0);
            if (d > 0)
            {
                delta[key] = d;
            }
        }

        return delta;
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?<labels>[^}]*)\})?\s+(?<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
