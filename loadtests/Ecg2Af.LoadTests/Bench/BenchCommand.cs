using System.CommandLine;
using System.Globalization;
using Ecg2Af.LoadTests.Bench;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>
/// <c>ecg2af-load bench</c>: the figures of docs/benchmarks.md ("Load" sections) in one self-hosted run, as ratios:
/// raw ONNX Runtime ceiling vs one worker over HTTP vs the gateway in front; GFLOP/s vs the processor's peak;
/// behaviour past saturation; throughput against the number of workers; optionally batching off vs on.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Seconds per measured HTTP phase (raw ONNX Runtime gets half).", DefaultValueFactory = _ => 10 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of raw ONNX Runtime, worker direct and gateway (ABBA), back to back; ratios are per round, medians reported.", DefaultValueFactory = _ => 4 };
        var users = new Option<int>("--users") { Description = "Closed-model users at saturation per worker (2 × the worker's max batch lets it fill batches).", DefaultValueFactory = _ => 32 };
        var ceilingBatch = new Option<int>("--ceiling-batch") { Description = "Batch size of the second raw ONNX Runtime measurement (the worker's max batch).", DefaultValueFactory = _ => 16 };
        var overload = new Option<double>("--overload") { Description = "Past saturation: arrival rate as a multiple of the measured gateway throughput.", DefaultValueFactory = _ => 2 };
        var scale = new Option<int[]>("--scale") { Description = "Worker counts for the scaling phase.", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var request = new Option<string>("--request") { Description = "Request measured: oip-binary (the model input as OIP binary tensors) or web-form (a predictions upload, parsing and preprocessing included).", DefaultValueFactory = _ => "oip-binary" };
        request.AcceptOnlyFromAmong("web-form", "oip-binary");
        var batching = new Option<int?>("--compare-batching") { Description = "Compare Serving__MaxBatchSize=1 with this batch size (0: skip).", DefaultValueFactory = _ => 16 };
        var flopsPerCycle = new Option<double>("--flops-per-cycle") { Description = "FP32 FLOP per cycle per core for the peak (32: two 256-bit FMA pipes, as on Zen 4).", DefaultValueFactory = _ => 32 };
        var common = new BenchOptions("bench.md");
        var command = new Command("bench", "Measure the docs/benchmarks.md load figures in one self-hosted run.")
        {
            seconds, rounds, users, ceilingBatch, overload, scale, request, batching, flopsPerCycle,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new BenchSettings(
                TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(rounds), parse.GetValue(users), parse.GetValue(ceilingBatch), parse.GetValue(overload), parse.GetValue(scale)!,
                parse.GetValue(request)!, parse.GetValue(batching), parse.GetValue(flopsPerCycle), parse.GetValue(common.ModelRepository),
                common.SamplesFolder(parse), common.WorkerSettings(parse));
            await common.PrintAsync(parse, await BenchRun.ExecuteAsync(settings, Console.Out, cancellationToken), cancellationToken);
            return 0;
        });
        return command;
    }
}

/// <summary>One round of the first part: wall-clock rates (ECGs/s) and CPU time per ECG of each path.</summary>
internal sealed record Round
{
    public double Raw1 { get; init; }

    public double RawBatch { get; init; }

    public double Direct { get; init; }

    public double Gateway { get; init; }

    public TimeSpan Raw1Cpu { get; init; }

    public TimeSpan RawBatchCpu { get; init; }

    public TimeSpan DirectCpu { get; init; }

    public TimeSpan GatewayPathCpu { get; init; }

    public TimeSpan GatewayCpu { get; init; }

    public double RawBest => Math.Max(Math.Max(Raw1, RawBatch), 1e-9);

    public TimeSpan RawBestCpu => Raw1Cpu < RawBatchCpu ? Raw1Cpu : RawBatchCpu;

    /// <summary>The 1-D graph as stored (no 2-D rewrite), same layout, at batch 1 and at the ceiling batch.</summary>
    public double Raw1D1 { get; init; }

    public double Raw1DBatch { get; init; }

    public double Raw1DBest => Math.Max(Math.Max(Raw1D1, Raw1DBatch), 1e-9);
}

internal sealed record BenchSettings(
    TimeSpan Phase, int Rounds, int Users, int CeilingBatch, double Overload, int[] Scale, string Request, int? CompareBatching, double FlopsPerCycle,
    string? ModelRepository, string SamplesFolder, IReadOnlyDictionary<string, string> WorkerSettings);

internal static class BenchRun
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Task<string> ExecuteAsync(BenchSettings settings, TextWriter log, CancellationToken cancellationToken) =>
        BenchOptions.WithModelRepositoryAsync(settings.ModelRepository, async repository =>
        {
            var payloads = Payloads.Load(settings.SamplesFolder, [[Payloads.TensorSource]]);
            var md = BenchOptions.Header("Load benchmark", settings.WorkerSettings);
            md.AppendLine(C, $"- Request measured over HTTP: {settings.Request} ({Payloads.TensorSource}); {settings.Phase.TotalSeconds:0} s per phase after a 3 s warm-up");

            // 1. One worker behind the gateway. Each round measures, back to back so that they share the machine's
            //    background load: raw ONNX Runtime at batch 1 and at the worker's max batch, then the worker direct and
            //    through the gateway (ABBA). Ratios are taken per round; the report gives every round and the medians.
            var rounds = new List<Round>();
            long macs;
            StepReport overloadReport;
            double overloadRate;
            await using (var cluster = await SelfHost.StartAsync(1, repository, Workers(settings), Quiet(), cancellationToken))
            {
                await PrepareAsync(payloads, settings, cluster.GatewayUrl, cancellationToken);
                var version = Ceiling.ServedVersion(repository);
                using var ceiling = new Ceiling(version);
                using var ceiling1D = new Ceiling(version, conv1DAs2D: false);
                macs = ceiling.MacsPerEcg;
                md.AppendLine(C, $"- Raw ONNX Runtime: {ceiling.Layout}; against {ceiling1D.Layout}");
                md.AppendLine(C, $"- Model: {Path.GetFileName(Path.GetDirectoryName(version))}/{Path.GetFileName(version)}, {macs / 1e9:0.###} GMAC per ECG, execution provider {ceiling.Provider}; worker defaults (max batch 16, the automatic thread layout)");
                for (var round = 1; round <= settings.Rounds; round++)
                {
                    log.WriteLine(string.Create(C, $"round {round}: raw ONNX Runtime in-process..."));
                    var raw1 = ceiling.Measure(1, settings.Phase / 2);
                    var rawBatch = ceiling.Measure(settings.CeilingBatch, settings.Phase / 2);
                    var raw1D1 = ceiling1D.Measure(1, settings.Phase / 4);
                    var raw1DBatch = ceiling1D.Measure(settings.CeilingBatch, settings.Phase / 4);
                    var r = new Round
                    {
                        Raw1 = raw1.EcgsPerSecond, RawBatch = rawBatch.EcgsPerSecond, Raw1Cpu = raw1.CpuPerEcg, RawBatchCpu = rawBatch.CpuPerEcg,
                        Raw1D1 = raw1D1.EcgsPerSecond, Raw1DBatch = raw1DBatch.EcgsPerSecond,
                    };
                    int[] processes = [cluster.Worker(0).ProcessId, cluster.Gateway.ProcessId];
                    foreach (var gatewayTurn in round % 2 == 0 ? new[] { true, false } : [false, true])
                    {
                        log.WriteLine(string.Create(C, $"round {round}: one worker, {(gatewayTurn ? "through the gateway" : "direct")}..."));
                        var (report, cpu) = await MeasureClosedAsync(gatewayTurn ? cluster.GatewayUrl : cluster.WorkerUrls[0], payloads, settings, settings.Users, 1, processes, cancellationToken);
                        var ecgs = Math.Max(1, report.Ok);
                        if (gatewayTurn)
                        {
                            r = r with { Gateway = report.OkPerSecond, GatewayPathCpu = (cpu[0] + cpu[1]) / ecgs, GatewayCpu = cpu[1] / ecgs };
                        }
                        else
                        {
                            r = r with { Direct = report.OkPerSecond, DirectCpu = cpu[0] / ecgs };
                        }
                    }

                    rounds.Add(r);
                }

                overloadRate = Math.Max(0.5, settings.Overload * Median(rounds.Select(r => r.Gateway)));
                log.WriteLine(string.Create(C, $"past saturation: {overloadRate:0.00}/s through the gateway..."));
                overloadReport = await MeasureOpenAsync(cluster.GatewayUrl, payloads, settings, overloadRate, cancellationToken);
            }

            var peak = Environment.ProcessorCount * (MachineInfo.CpuMhz() ?? 0) * 1e6 * settings.FlopsPerCycle;
            double Gflops(double ecgs) => ecgs * 2.0 * macs / 1e9;
            md.AppendLine();
            md.AppendLine(C, $"Per round, wall-clock throughput (ECGs/s; {settings.Users} closed-loop users over HTTP, OIP requests of one ECG):");
            md.AppendLine();
            md.AppendLine(C, $"| round | raw batch 1 | raw batch {settings.CeilingBatch} | worker direct | gateway → worker | direct ÷ raw best | gateway ÷ raw best | gateway ÷ direct |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            var index = 0;
            foreach (var r in rounds)
            {
                md.AppendLine(C, $"| {++index} | {r.Raw1:0.00} | {r.RawBatch:0.00} | {r.Direct:0.00} | {r.Gateway:0.00} | {r.Direct / r.RawBest:0.00} | {r.Gateway / r.RawBest:0.00} | {r.Gateway / Math.Max(r.Direct, 1e-9):0.00} |");
            }

            md.AppendLine();
            md.AppendLine("Per round, CPU time per ECG (ms; user + system of the process(es) doing the work, which other tenants' load changes far less than wall-clock rates):");
            md.AppendLine();
            md.AppendLine(C, $"| round | raw batch 1 | raw batch {settings.CeilingBatch} | worker (direct) | worker + gateway (through the gateway) | of which gateway | raw best ÷ worker | raw best ÷ worker + gateway |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            index = 0;
            foreach (var r in rounds)
            {
                md.AppendLine(C, $"| {++index} | {Ms(r.Raw1Cpu)} | {Ms(r.RawBatchCpu)} | {Ms(r.DirectCpu)} | {Ms(r.GatewayPathCpu)} | {Ms(r.GatewayCpu)} | {r.RawBestCpu / r.DirectCpu:0.00} | {r.RawBestCpu / r.GatewayPathCpu:0.00} |");
            }

            md.AppendLine();
            md.AppendLine("| path (1 worker), median of the rounds | ECGs/s | GFLOP/s | ÷ peak FP32 | CPU ms per ECG | GFLOP per core-second | ÷ peak per core |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            var corePeak = peak / Environment.ProcessorCount;
            foreach (var (name, rates, cpus) in new (string, IEnumerable<double>, IEnumerable<TimeSpan>)[]
            {
                ("raw ONNX Runtime, batch 1", rounds.Select(r => r.Raw1), rounds.Select(r => r.Raw1Cpu)),
                (string.Create(C, $"raw ONNX Runtime, batch {settings.CeilingBatch}"), rounds.Select(r => r.RawBatch), rounds.Select(r => r.RawBatchCpu)),
                ("worker over HTTP", rounds.Select(r => r.Direct), rounds.Select(r => r.DirectCpu)),
                ("gateway → worker", rounds.Select(r => r.Gateway), rounds.Select(r => r.GatewayPathCpu)),
            })
            {
                var median = Median(rates);
                var cpu = Median(cpus.Select(c => c.TotalSeconds));
                var perCoreSecond = 2.0 * macs / 1e9 / Math.Max(cpu, 1e-9);
                md.AppendLine(C, $"| {name} | {median:0.00} | {Gflops(median):0.0} | {Gflops(median) * 1e9 / peak:0.000} | {cpu * 1000:0.0} | {perCoreSecond:0.0} | {perCoreSecond * 1e9 / corePeak:0.000} |");
            }

            md.AppendLine();
            md.AppendLine(C, $"Ratios (medians of the per-round ratios). Wall clock: worker direct ÷ raw best **{Median(rounds.Select(r => r.Direct / r.RawBest)):0.00}**, gateway ÷ raw best **{Median(rounds.Select(r => r.Gateway / r.RawBest)):0.00}**, gateway ÷ direct **{Median(rounds.Select(r => r.Gateway / Math.Max(r.Direct, 1e-9))):0.00}**. CPU-bound (throughput if CPU were the only limit): worker ÷ raw best **{Median(rounds.Select(r => r.RawBestCpu / r.DirectCpu)):0.00}**, gateway path ÷ raw best **{Median(rounds.Select(r => r.RawBestCpu / r.GatewayPathCpu)):0.00}**, gateway path ÷ direct **{Median(rounds.Select(r => r.DirectCpu / r.GatewayPathCpu)):0.00}**.");
            md.AppendLine();
            md.AppendLine(C, $"Served 2-D graph against the 1-D graph as stored (raw ONNX Runtime, same layout, ECGs/s per round, batch 1 / batch {settings.CeilingBatch}): {string.Join("; ", rounds.Select(r => string.Create(C, $"{r.Raw1:0.0}/{r.RawBatch:0.0} against {r.Raw1D1:0.0}/{r.Raw1DBatch:0.0}")))}. Best batch 2-D ÷ best batch 1-D, median of the rounds: **{Median(rounds.Select(r => r.RawBest / r.Raw1DBest)):0.00}**.");
            md.AppendLine();
            md.AppendLine(C, $"GFLOP/s = ECGs/s × 2 × {macs / 1e9:0.###} GMAC. Peak FP32 assumed: {Environment.ProcessorCount} cores × {MachineInfo.CpuMhz():0} MHz (the clock the system reports; boost may be higher) × {settings.FlopsPerCycle:0} FLOP/cycle = {peak / 1e9:0} GFLOP/s.");
            md.AppendLine();
            var shed = overloadReport.StatusCodes.Where(p => p.Key is "429" or "503" or "504").Sum(p => p.Value);
            md.AppendLine(C, $"Past saturation: open arrivals at {overloadRate:0.00}/s ({settings.Overload:0.#} × the gateway's closed-loop throughput) for {settings.Phase.TotalSeconds:0} s:");
            md.AppendLine();
            md.AppendLine("| scheduled | ok | ok/s | shed (429/503/504) | other failures | dropped by the generator | admitted p50 / p99 / max ms | refused p50 / p99 ms | status codes |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            md.AppendLine(C, $"| {overloadReport.Scheduled} | {overloadReport.Ok} | {overloadReport.OkPerSecond:0.00} | {shed} | {overloadReport.Failed - shed} | {overloadReport.Dropped} | {overloadReport.Latency.P50Ms:0} / {overloadReport.Latency.P99Ms:0} / {overloadReport.Latency.MaxMs:0} | {overloadReport.FailedLatency.P50Ms:0} / {overloadReport.FailedLatency.P99Ms:0} | {Format.Counts(overloadReport.StatusCodes)} |");

            // 2. Scaling with workers: the gateway in front of N workers, clients spread over 200 addresses. All the
            //    clusters run at once (idle ones cost nothing) and are measured in alternating order.
            md.AppendLine();
            md.AppendLine(C, $"Scaling ({Environment.ProcessorCount} cores; each worker's ONNX Runtime uses all cores, so on this machine it measures contention, not added capacity), {settings.Users} users per worker, 200 client addresses, measured in alternating order, {settings.Rounds / 2} round(s) each:");
            md.AppendLine();
            md.AppendLine("| workers | users | ok/s per round | median ok/s | ÷ 1 worker | CPU ms per ECG (workers + gateway, median) | p50 / p99 ms (last round) | answered by (last round) |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---|");
            var scaleClusters = new List<LocalCluster.LocalCluster>();
            try
            {
                foreach (var n in settings.Scale)
                {
                    log.WriteLine(string.Create(C, $"scaling: starting {n} worker(s)..."));
                    scaleClusters.Add(await SelfHost.StartAsync(n, repository, Workers(settings), Quiet(), cancellationToken));
                }

                var scaled = await AlternateAsync(
                    scaleClusters.Select((cluster, i) => (Func<Task<(StepReport Report, TimeSpan[] Cpu)>>)(() =>
                        MeasureClosedAsync(cluster.GatewayUrl, payloads, settings, settings.Users * settings.Scale[i], 200,
                            [.. Enumerable.Range(0, settings.Scale[i]).Select(w => cluster.Worker(w).ProcessId), cluster.Gateway.ProcessId], cancellationToken))).ToList(),
                    Math.Max(1, settings.Rounds / 2), log, "scaling");
                var baseline = Median(scaled[0].Select(r => r.Report.OkPerSecond));
                for (var i = 0; i < scaled.Count; i++)
                {
                    var n = settings.Scale[i];
                    var last = scaled[i][^1].Report;
                    var median = Median(scaled[i].Select(r => r.Report.OkPerSecond));
                    var cpu = Median(scaled[i].Select(r => r.Cpu.Sum(c => c.TotalMilliseconds) / Math.Max(1, r.Report.Ok)));
                    md.AppendLine(C, $"| {n} | {settings.Users * n} | {string.Join(", ", scaled[i].Select(r => r.Report.OkPerSecond.ToString("0.00", C)))} | {median:0.00} | {median / Math.Max(baseline, 1e-9):0.00} | {cpu:0.0} | {last.Latency.P50Ms:0} / {last.Latency.P99Ms:0} | {Format.Counts(last.Workers)} |");
                }
            }
            finally
            {
                foreach (var cluster in scaleClusters)
                {
                    await cluster.DisposeAsync();
                }
            }

            // 3. Batching off vs on (the serving engine's Serving__MaxBatchSize), two one-worker clusters side by side.
            if (settings.CompareBatching is { } batchSize and > 1)
            {
                md.AppendLine();
                md.AppendLine(C, $"Batching, one worker behind the gateway, {Math.Max(settings.Users, 2 * batchSize)} users, alternating order:");
                md.AppendLine();
                md.AppendLine("| worker setting | ok/s per round | median ok/s | worker CPU ms per ECG (median) | p50 / p99 ms (last round) |");
                md.AppendLine("|---|---:|---:|---:|---:|");
                var batchClusters = new List<LocalCluster.LocalCluster>();
                try
                {
                    foreach (var size in new[] { 1, batchSize })
                    {
                        var worker = Workers(settings);
                        worker["Serving__MaxBatchSize"] = size.ToString(C);
                        // What batching buys: the larger arm runs its batches whole, not as the adaptive cap would cut them.
                        worker["Serving__AdaptiveBatchCap"] = "false";
                        batchClusters.Add(await SelfHost.StartAsync(1, repository, worker, Quiet(), cancellationToken));
                    }

                    var users = Math.Max(settings.Users, 2 * batchSize);
                    var measured = await AlternateAsync(
                        batchClusters.Select(cluster => (Func<Task<(StepReport Report, TimeSpan[] Cpu)>>)(() =>
                            MeasureClosedAsync(cluster.GatewayUrl, payloads, settings, users, 200, [cluster.Worker(0).ProcessId], cancellationToken))).ToList(),
                        Math.Max(1, settings.Rounds / 2), log, "batching");
                    var medians = measured.Select(m => Median(m.Select(r => r.Report.OkPerSecond))).ToList();
                    var cpus = measured.Select(m => Median(m.Select(r => r.Cpu[0].TotalMilliseconds / Math.Max(1, r.Report.Ok)))).ToList();
                    for (var i = 0; i < 2; i++)
                    {
                        var last = measured[i][^1].Report;
                        md.AppendLine(C, $"| Serving__MaxBatchSize={(i == 0 ? 1 : batchSize)} | {string.Join(", ", measured[i].Select(r => r.Report.OkPerSecond.ToString("0.00", C)))} | {medians[i]:0.00} | {cpus[i]:0.0} | {last.Latency.P50Ms:0} / {last.Latency.P99Ms:0} |");
                    }

                    md.AppendLine();
                    md.AppendLine(C, $"Batching on ÷ off (medians): wall clock **{medians[1] / Math.Max(medians[0], 1e-9):0.00}**, CPU-bound (worker CPU per ECG, off ÷ on) **{cpus[0] / Math.Max(cpus[1], 1e-9):0.00}**.");
                }
                finally
                {
                    foreach (var cluster in batchClusters)
                    {
                        await cluster.DisposeAsync();
                    }
                }
            }

            md.AppendLine();
            md.AppendLine(C, $"Load average at the end {MachineInfo.LoadAverage()}.");
            return md.ToString();
        });

    private static Dictionary<string, string> Quiet() => new(StringComparer.Ordinal);

    private static Dictionary<string, string> Workers(BenchSettings settings) => new(settings.WorkerSettings, StringComparer.Ordinal);

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", C);

    /// <summary>Measures each arm once per round, in forward order in odd rounds and reverse order in even ones (ABBA).</summary>
    internal static async Task<List<List<T>>> AlternateAsync<T>(IReadOnlyList<Func<Task<T>>> arms, int rounds, TextWriter log, string what)
    {
        var results = arms.Select(_ => new List<T>()).ToList();
        for (var round = 1; round <= rounds; round++)
        {
            var order = Enumerable.Range(0, arms.Count);
            foreach (var arm in round % 2 == 0 ? order.Reverse() : order)
            {
                log.WriteLine(string.Create(C, $"{what}: round {round}, arm {arm + 1} of {arms.Count}..."));
                results[arm].Add(await arms[arm]());
            }
        }

        return results;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task PrepareAsync(Payloads payloads, BenchSettings settings, Uri gateway, CancellationToken cancellationToken)
    {
        if (settings.Request == "oip-binary" && !payloads.HasTensor)
        {
            using var client = ClientPool.Authorize(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, SelfHost.Key.Key);
            await payloads.LoadTensorAsync(client, gateway, cancellationToken);
        }
    }

    private static StepDefinition Step(Uri target, Payloads payloads, BenchSettings settings) => settings.Request == "oip-binary"
        ? new StepDefinition("oip-binary", 1, Requests.OipBinary(target, payloads))
        : new StepDefinition("web-form", 1, Requests.WebForm(target, payloads));

    private static async Task<StepReport> MeasureClosedAsync(Uri target, Payloads payloads, BenchSettings settings, int users, int clients, CancellationToken cancellationToken) =>
        (await MeasureClosedAsync(target, payloads, settings, users, clients, [], cancellationToken)).Report;

    private static async Task<(StepReport Report, TimeSpan[] Cpu)> MeasureClosedAsync(
        Uri target, Payloads payloads, BenchSettings settings, int users, int clients, int[] processIds, CancellationToken cancellationToken)
    {
        var bounds = new RunBounds { MaxDuration = settings.Phase + TimeSpan.FromMinutes(2), RequestTimeout = TimeSpan.FromMinutes(1) };
        using var pool = new ClientPool(clients, bounds.RequestTimeout, users, SelfHost.Key.Key);
        return await MeasureClosedAsync(new ScenarioRunner(pool, bounds), Step(target, payloads, settings), users, TimeSpan.FromSeconds(3), settings.Phase, processIds, cancellationToken);
    }

    /// <summary>
    /// One closed-loop phase of <paramref name="step"/> after an unmeasured warm-up, and the CPU time each of
    /// <paramref name="processIds"/> used during the measured part (what every bench reports per ECG).
    /// </summary>
    internal static async Task<(StepReport Report, TimeSpan[] Cpu)> MeasureClosedAsync(
        ScenarioRunner runner, StepDefinition step, int users, TimeSpan warmup, TimeSpan phase, IReadOnlyList<int> processIds, CancellationToken cancellationToken)
    {
        var scenario = new Scenario { Name = "bench-" + step.Name, Steps = [step], Load = [new KeepConstantPhase(users, phase)] };
        await runner.WarmUpAsync(scenario, warmup, cancellationToken);
        var before = processIds.Select(CpuTime.Of).ToArray();
        var result = await runner.RunAsync(scenario, cancellationToken);
        var cpu = processIds.Select((id, i) => CpuTime.Of(id) - before[i]).ToArray();
        return (StepReport.From(result.Steps[0], result.Window), cpu);
    }

    /// <summary>The report line naming the processor, its cores and clock, and the load average now.</summary>
    internal static string MachineLine() =>
        string.Create(C, $"- Machine: {MachineInfo.CpuModel()}, {Environment.ProcessorCount} cores, {MachineInfo.CpuMhz():0} MHz; load average at start {MachineInfo.LoadAverage()}");

    private static async Task<StepReport> MeasureOpenAsync(Uri target, Payloads payloads, BenchSettings settings, double rate, CancellationToken cancellationToken)
    {
        var bounds = new RunBounds { MaxDuration = settings.Phase + TimeSpan.FromMinutes(3), RequestTimeout = TimeSpan.FromMinutes(2), MaxInFlight = 1024 };
        using var pool = new ClientPool(200, bounds.RequestTimeout, 16, SelfHost.Key.Key);
        var runner = new ScenarioRunner(pool, bounds);
        var scenario = new Scenario { Name = "overload", Steps = [Step(target, payloads, settings)], Load = [new InjectPhase(rate, settings.Phase)] };
        var result = await runner.RunAsync(scenario, cancellationToken);
        return StepReport.From(result.Steps[0], result.Window);
    }
}
