using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ecg2Af.Gateway.Benchmarks;

internal sealed record LatencyResult(IReadOnlyList<double> DirectMs, IReadOnlyList<double> GatewayMs)
{
    public double AddedMedianMs => Percentile(GatewayMs, 0.5) - Percentile(DirectMs, 0.5);

    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
    }
}

internal sealed record ThroughputResult(string Mode, int Pair, int Completed, int Errors, double Seconds, IReadOnlyList<double> LatenciesMs)
{
    public double PerSecond => Completed / Seconds;

    /// <summary>CPU the gateway process used during the phase (it is idle in direct phases apart from health checks).</summary>
    public double GatewayCpuSeconds { get; init; }

    /// <summary>CPU the worker processes used during the phase.</summary>
    public double WorkerCpuSeconds { get; init; }
}

/// <summary>What one run measured, as a Markdown table (for docs/benchmarks.md) and as JSON.</summary>
internal sealed record BenchmarkReport(
    BenchmarkSettings Settings, int ProcessorCount, LatencyResult Latency, IReadOnlyList<ThroughputResult> Phases, DateTimeOffset FinishedAt)
{
    public const double ThroughputGoal = 0.95;
    public const double AddedLatencyGoalMs = 1.0;

    public double ThroughputRatio =>
        Phases.Where(p => p.Mode == "gateway").Sum(p => p.Completed) / Phases.Where(p => p.Mode == "gateway").Sum(p => p.Seconds)
        / (Phases.Where(p => p.Mode == "direct").Sum(p => p.Completed) / Phases.Where(p => p.Mode == "direct").Sum(p => p.Seconds));

    /// <summary>Gateway over direct throughput within each pair of adjacent phases.</summary>
    public IReadOnlyList<double> PairRatios =>
    [
        .. Phases.GroupBy(p => p.Pair).Select(pair =>
            pair.Single(p => p.Mode == "gateway").PerSecond / pair.Single(p => p.Mode == "direct").PerSecond),
    ];

    /// <summary>The median of the per-pair ratios: less sensitive to one disturbed phase on a shared machine.</summary>
    public double MedianPairRatio
    {
        get
        {
            return LatencyResult.Percentile(PairRatios, 0.5);
        }
    }

    /// <summary>Gateway CPU per prediction in gateway phases, less its idle cost (health checks) measured in direct phases.</summary>
    public double GatewayCpuMsPerPrediction
    {
        get
        {
            var gateway = Phases.Where(p => p.Mode == "gateway").ToArray();
            var direct = Phases.Where(p => p.Mode == "direct").ToArray();
            var idlePerSecond = direct.Sum(p => p.GatewayCpuSeconds) / direct.Sum(p => p.Seconds);
            return 1000 * (gateway.Sum(p => p.GatewayCpuSeconds) - idlePerSecond * gateway.Sum(p => p.Seconds)) / gateway.Sum(p => p.Completed);
        }
    }

    public double WorkerCpuMsPerPrediction => 1000 * Phases.Sum(p => p.WorkerCpuSeconds) / Phases.Sum(p => p.Completed);

    /// <summary>
    /// The throughput ratio where CPU is the only limit and gateway and worker share it (as on one small machine):
    /// worker CPU / (worker CPU + gateway CPU) per prediction. Unlike the timed phases, CPU accounting does not
    /// move with what else the machine is running.
    /// </summary>
    public double CpuBoundRatio => WorkerCpuMsPerPrediction / (WorkerCpuMsPerPrediction + GatewayCpuMsPerPrediction);

    public bool MeetsGoals => ThroughputRatio >= ThroughputGoal && Latency.AddedMedianMs < AddedLatencyGoalMs && Phases.All(p => p.Errors == 0);

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Gateway benchmark, {FinishedAt:yyyy-MM-dd HH:mm} UTC, {ProcessorCount} cores, {Settings.Workers} worker(s), {Settings.Clients} clients, {Settings.Pairs} x 2 phases of {Settings.Seconds} s");
        text.AppendLine();
        text.AppendLine("| measure | direct to worker | through gateway | result | goal |");
        text.AppendLine("|---|---|---|---|---|");
        text.AppendLine(c, $"| trivial route p50 / p90 / p99 (ms), {Latency.GatewayMs.Count} serial requests each | {Ms(Latency.DirectMs)} | {Ms(Latency.GatewayMs)} | added median {Latency.AddedMedianMs:0.000} ms | < {AddedLatencyGoalMs:0.0} ms |");
        var direct = Phases.Where(p => p.Mode == "direct").ToArray();
        var gateway = Phases.Where(p => p.Mode == "gateway").ToArray();
        text.AppendLine(c, $"| predictions per second (phases, in pair order) | {Rates(direct)} | {Rates(gateway)} | ratio {ThroughputRatio:0.000} | >= {ThroughputGoal:0.00} |");
        text.AppendLine(c, $"| gateway/direct per phase pair | | | {string.Join(", ", PairRatios.Select(r => r.ToString("0.000", c)))}; median {MedianPairRatio:0.000} | |");
        text.AppendLine(c, $"| CPU per prediction (ms): worker, gateway | {WorkerCpuMsPerPrediction:0.0} | {GatewayCpuMsPerPrediction:0.00} | CPU-bound ratio {CpuBoundRatio:0.000} | >= {ThroughputGoal:0.00} |");
        text.AppendLine(c, $"| prediction latency p50 / p99 (ms) | {Percentiles(direct)} | {Percentiles(gateway)} | | |");
        text.AppendLine(c, $"| failed predictions | {direct.Sum(p => p.Errors)} | {gateway.Sum(p => p.Errors)} | | 0 |");
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(new
    {
        finished_at = FinishedAt,
        processor_count = ProcessorCount,
        settings = new { Settings.Seconds, Settings.Pairs, Settings.Clients, Settings.Workers, Settings.LatencyRequests, ecg = Path.GetFileName(Settings.EcgPath) },
        trivial_route_ms = new
        {
            direct_p50 = LatencyResult.Percentile(Latency.DirectMs, 0.5),
            gateway_p50 = LatencyResult.Percentile(Latency.GatewayMs, 0.5),
            added_median = Latency.AddedMedianMs,
        },
        throughput = Phases.Select(p => new { p.Mode, p.Pair, p.Completed, p.Errors, p.Seconds, per_second = p.PerSecond }),
        throughput_ratio = ThroughputRatio,
        median_pair_ratio = MedianPairRatio,
        worker_cpu_ms_per_prediction = WorkerCpuMsPerPrediction,
        gateway_cpu_ms_per_prediction = GatewayCpuMsPerPrediction,
        cpu_bound_ratio = CpuBoundRatio,
        meets_goals = MeetsGoals,
    }, new JsonSerializerOptions { WriteIndented = true });

    private static string Ms(IReadOnlyList<double> samples) =>
        string.Create(CultureInfo.InvariantCulture, $"{LatencyResult.Percentile(samples, 0.5):0.000} / {LatencyResult.Percentile(samples, 0.9):0.000} / {LatencyResult.Percentile(samples, 0.99):0.000}");

    private static string Rates(IEnumerable<ThroughputResult> phases) =>
        string.Join(", ", phases.Select(p => p.PerSecond.ToString("0.00", CultureInfo.InvariantCulture)));

    private static string Percentiles(IEnumerable<ThroughputResult> phases)
    {
        var all = phases.SelectMany(p => p.LatenciesMs).ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{LatencyResult.Percentile(all, 0.5):0.0} / {LatencyResult.Percentile(all, 0.99):0.0}");
    }
}
