using System.Globalization;
using System.Text.RegularExpressions;
using Ecg2Af.LoadTests.Reporting;

namespace Ecg2Af.LoadTests.Thresholds;

/// <summary>
/// A pass criterion such as <c>p99 &lt; 2s</c>, <c>fail_ratio &lt;= 0</c>, <c>rps &gt;= 5</c> or
/// <c>stat:p95 &lt; 800ms</c>: an optional step name and colon (else the scenario's totals), a metric, a comparison
/// and a number with an optional unit (latencies: us, ms (default) or s). Metrics: requests, ok, failed, dropped,
/// late, fail_ratio, dropped_ratio, rps, min, mean, max, stdev, p50, p75, p95, p99, p99.9, workers (distinct
/// workers that answered, from X-Ecg2Af-Worker), worker_share_min (smallest worker's share of the answered
/// requests), destinations (workers the gateway's own metrics say it forwarded to; scenario level only).
/// </summary>
public sealed partial record Threshold(string? Step, string Metric, string Operator, double Value, string Text)
{
    private static readonly string[] Counts = ["requests", "ok", "failed", "dropped", "late", "workers", "destinations"];
    private static readonly string[] Ratios = ["fail_ratio", "dropped_ratio", "worker_share_min"];
    private static readonly string[] Latencies = ["min", "mean", "max", "stdev", "p50", "p75", "p95", "p99", "p99.9"];

    public static IReadOnlyList<string> Metrics { get; } = [.. Counts, .. Ratios, "rps", .. Latencies];

    /// <summary>Parses one criterion; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static Threshold Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            throw new FormatException($"Threshold '{text}' is not of the form [step:]metric op number[unit], e.g. 'p99 < 2s' or 'fail_ratio <= 0'.");
        }

        var metric = match.Groups["metric"].Value.ToLowerInvariant();
        if (metric == "p999")
        {
            metric = "p99.9";
        }

        if (!Metrics.Contains(metric))
        {
            throw new FormatException($"Threshold '{text}': unknown metric '{metric}'. Known: {string.Join(", ", Metrics)}.");
        }

        var value = double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        var unit = match.Groups["unit"].Value.ToLowerInvariant();
        if (unit.Length > 0)
        {
            if (!Latencies.Contains(metric))
            {
                throw new FormatException($"Threshold '{text}': only latencies take a unit.");
            }

            value *= unit switch
            {
                "us" or "µs" => 0.001,
                "ms" => 1,
                "s" => 1000,
                _ => throw new FormatException($"Threshold '{text}': unknown unit '{unit}' (us, ms or s)."),
            };
        }

        var step = match.Groups["step"].Success ? match.Groups["step"].Value : null;
        return new Threshold(step, metric, match.Groups["op"].Value, value, text.Trim());
    }

    /// <summary>Checks this criterion against a scenario's report.</summary>
    public ThresholdResult Evaluate(ScenarioReport scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        StepReport? step = Step is null ? scenario.Total : scenario.Steps.FirstOrDefault(s => s.Name == Step);
        if (step is null)
        {
            return new ThresholdResult(scenario.Name, Text, null, false, $"no step named '{Step}'");
        }

        var actual = Metric == "destinations"
            ? scenario.Gateway is { Note: null } gateway ? gateway.Attempts.Count(p => p.Value > 0) : null
            : Actual(step);
        if (actual is null)
        {
            return new ThresholdResult(scenario.Name, Text, null, false,
                Metric == "destinations" ? "the gateway's per-destination metrics could not be read" : "no ok requests to measure");
        }

        var passed = Operator switch
        {
            "<" => actual < Value,
            "<=" => actual <= Value,
            ">" => actual > Value,
            ">=" => actual >= Value,
            "==" => actual == Value,
            _ => false,
        };
        return new ThresholdResult(scenario.Name, Text, actual, passed, null);
    }

    private double? Actual(StepReport step) => Metric switch
    {
        "requests" => step.Requests,
        "ok" => step.Ok,
        "failed" => step.Failed,
        "dropped" => step.Dropped,
        "late" => step.Late,
        "fail_ratio" => step.FailRatio,
        "dropped_ratio" => step.Scheduled == 0 ? 0 : (double)step.Dropped / step.Scheduled,
        "rps" => step.OkPerSecond,
        "workers" => step.Workers.Count(w => w.Value > 0),
        "worker_share_min" => step.Workers.Count == 0 ? 0 : (double)step.Workers.Values.Min() / step.Workers.Values.Sum(),
        _ => step.Ok == 0 ? null : step.Latency.Get(Metric),
    };

    [GeneratedRegex(@"^(?:(?<step>[A-Za-z0-9_.-]+)\s*:\s*)?(?<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*(?<op><=|>=|==|<|>)\s*(?<value>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(?<unit>us|µs|ms|s)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();
}

/// <summary>The verdict on one threshold.</summary>
public sealed record ThresholdResult(string Scenario, string Threshold, double? Actual, bool Passed, string? Note);
