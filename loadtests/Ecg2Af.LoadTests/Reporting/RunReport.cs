using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Reporting;

/// <summary>The whole run: where and how it ran, and one report per scenario.</summary>
public sealed record RunReport(RunInfo Info, IReadOnlyList<ScenarioReport> Scenarios)
{
    public bool Passed => Scenarios.All(s => s.Passed);
}

/// <summary>Facts that make a report reproducible: commit, machine, load average, target and client spread.</summary>
public sealed record RunInfo(
    DateTimeOffset StartedUtc,
    string Commit,
    string Machine,
    int Cores,
    string LoadAverage,
    string Target,
    bool SelfHosted,
    int? Workers,
    int ClientAddresses,
    string CommandLine);

/// <summary>One scenario: per step and in total, the gateway's per-destination counts, and the threshold verdicts.</summary>
public sealed record ScenarioReport(
    string Name,
    string Description,
    string Load,
    double DurationSeconds,
    bool HitTimeCap,
    IReadOnlyList<StepReport> Steps,
    StepReport Total,
    GatewayDestinations? Gateway,
    IReadOnlyList<ThresholdResult> Thresholds)
{
    public bool Passed => Thresholds.All(t => t.Passed);
}

/// <summary>
/// NBomber-like figures for one step (or the scenario total). Requests = ok + failed (sent); Scheduled adds the
/// dropped sends. Latency is of ok requests from their scheduled send time; ServiceTime from the actual send.
/// </summary>
public sealed record StepReport(
    string Name,
    long Scheduled,
    long Requests,
    long Ok,
    long Failed,
    long Dropped,
    long Late,
    double OkPerSecond,
    double RequestsPerSecond,
    double FailRatio,
    LatencyStats Latency,
    LatencyStats ServiceTime,
    LatencyStats FailedLatency,
    IReadOnlyDictionary<string, long> StatusCodes,
    IReadOnlyDictionary<string, long> Workers,
    long BytesSent,
    long BytesReceived,
    IReadOnlyList<TimelinePoint> Timeline)
{
    /// <summary>
    /// The figures of one recorder. Rates are the answers that completed inside the load window per second of it
    /// (<paramref name="window"/>), as wrk counts: past saturation this is what the service delivered, not what was
    /// offered.
    /// </summary>
    public static StepReport From(StepRecorder recorder, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        var ok = recorder.OkCount;
        var failed = recorder.FailedCount;
        var seconds = Math.Max(window.TotalSeconds, 1e-9);
        var requests = ok + failed;
        var okInWindow = recorder.OkInWindow;
        var requestsInWindow = recorder.RequestsInWindow;
        return new StepReport(
            recorder.Name,
            requests + recorder.Dropped,
            requests,
            ok,
            failed,
            recorder.Dropped,
            recorder.Late,
            okInWindow / seconds,
            requestsInWindow / seconds,
            requests == 0 ? 0 : (double)failed / requests,
            LatencyStats.From(recorder.OkLatency, recorder.MinOkUs, recorder.MaxOkUs),
            LatencyStats.From(recorder.OkServiceTime),
            LatencyStats.From(recorder.FailedLatency),
            Sorted(recorder.StatusCodes),
            Sorted(recorder.Workers),
            recorder.BytesSent,
            recorder.BytesReceived,
            recorder.Timeline);
    }

    private static SortedDictionary<string, long> Sorted(IReadOnlyDictionary<string, long> source) =>
        new(source.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
}

/// <summary>
/// The gateway's own count of attempts forwarded to each destination during the scenario (the difference of its
/// /metrics counter before and after), or why it could not be read; and the requests it answered itself, by reason.
/// </summary>
public sealed record GatewayDestinations(string Metric, IReadOnlyDictionary<string, double> Attempts, string? Note)
{
    public IReadOnlyDictionary<string, double> Rejected { get; init; } = new Dictionary<string, double>();
}

/// <summary>Builds reports from run results.</summary>
public static class ReportBuilder
{
    public static ScenarioReport Build(ScenarioResult result, GatewayDestinations? gateway, IEnumerable<Threshold> extraThresholds)
    {
        ArgumentNullException.ThrowIfNull(result);
        var steps = result.Steps.Select(s => StepReport.From(s, result.Window)).ToList();
        var total = StepReport.From(result.Total, result.Window);
        var scenario = result.Scenario;
        var report = new ScenarioReport(scenario.Name, scenario.Description, scenario.DescribeLoad(), result.Elapsed.TotalSeconds,
            result.HitTimeCap, steps, total, gateway, []);
        var thresholds = scenario.Thresholds.Concat(extraThresholds).Select(t => t.Evaluate(report)).ToList();
        if (result.HitTimeCap)
        {
            thresholds.Add(new ThresholdResult(scenario.Name, "finished within the run's time cap", report.DurationSeconds, false,
                "the hard time bound cancelled requests still in flight"));
        }

        return report with { Thresholds = thresholds };
    }
}
