using System.CommandLine;
using System.Globalization;
using System.Text;
using Ecg2Af.LoadTests.Bench;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LocalCluster;

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
        var seconds = new Option<double>("--seconds") { Description = "Seconds per measured phase.", DefaultValueFactory = _ => 20 };
        var rounds = new Option<int>("--rounds") { Description = "Direct/gateway measurements, in ABBA order, this many times each (averages out a shared machine's drift).", DefaultValueFactory = _ => 4 };
        var users = new Option<int>("--users") { Description = "Closed-model users at saturation per worker (2 × the worker's max batch lets it fill batches).", DefaultValueFactory = _ => 32 };
        var ceilingBatch = new Option<int>("--ceiling-batch") { Description = "Batch size of the second raw ONNX Runtime measurement (the worker's max batch).", DefaultValueFactory = _ => 16 };
        var overload = new Option<double>("--overload") { Description = "Past saturation: arrival rate as a multiple of the measured gateway throughput.", DefaultValueFactory = _ => 2 };
        var scale = new Option<int[]>("--scale") { Description = "Worker counts for the scaling phase.", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var request = new Option<string>("--request") { Description = "Request measured: oip-binary (the model input as OIP binary tensors) or web-form (a predictions upload, parsing and preprocessing included).", DefaultValueFactory = _ => "oip-binary" };
        request.AcceptOnlyFromAmong("web-form", "oip-binary");
        var batching = new Option<int?>("--compare-batching") { Description = "Compare Serving__MaxBatchSize=1 with this batch size (0: skip).", DefaultValueFactory = _ => 16 };
        var flopsPerCycle = new Option<double>("--flops-per-cycle") { Description = "FP32 FLOP per cycle per core for the peak (32: two 256-bit FMA pipes, as on Zen 4).", DefaultValueFactory = _ => 32 };
        var modelRepository = new Option<string?>("--model-repo") { Description = "Model repository to reuse (the stand-in is built there once)." };
        var samples = new Option<string?>("--samples") { Description = "ECG samples folder (default ../shared/ecg-samples)." };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for bench.md." };
        var command = new Command("bench", "Measure the docs/benchmarks.md load figures in one self-hosted run.")
        {
            seconds, rounds, users, ceilingBatch, overload, scale, request, batching, flopsPerCycle, modelRepository, samples, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new BenchSettings(
                TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(rounds), parse.GetValue(users), parse.GetValue(ceilingBatch), parse.GetValue(overload), parse.GetValue(scale)!,
                parse.GetValue(request)!, parse.GetValue(batching), parse.GetValue(flopsPerCycle), parse.GetValue(modelRepository),
                parse.GetValue(samples) ?? Path.Combine(RepositoryLayout.Shared, "ecg-samples"));
            var markdown = await BenchRun.ExecuteAsync(settings, Console.Out, cancellationToken);
            Console.WriteLine(markdown);
            if (parse.GetValue(output) is { } folder)
            {
                Directory.CreateDirectory(folder);
                await File.WriteAllTextAsync(Path.Combine(folder, "bench.md"), markdown, cancellationToken);
            }

            return 0;
        });
        return command;
    }
}

internal sealed record BenchSettings(
    TimeSpan Phase, int Rounds, int Users, int CeilingBatch, double Overload, int[] Scale, string Request, int? CompareBatching, double FlopsPerCycle,
    string? ModelRepository, string SamplesFolder);

internal static class BenchRun
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static async Task<string> ExecuteAsync(BenchSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var repository = settings.ModelRepository ?? Directory.CreateTempSubdirectory("ecg2af-bench-models-").FullName;
        var ownsRepository = settings.ModelRepository is null;
        var md = new StringBuilder();
        try
        {
            var payloads = Payloads.Load(settings.SamplesFolder, [[Payloads.TensorSource]]);
            md.AppendLine(C, $"## Load benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit `{MachineInfo.Commit(RepositoryLayout.Root)}`");
            md.AppendLine();
            md.AppendLine(C, $"- Machine: {MachineInfo.CpuModel()}, {Environment.ProcessorCount} cores, {MachineInfo.CpuMhz():0} MHz; load average at start {MachineInfo.LoadAverage()}");
            md.AppendLine(C, $"- Request measured over HTTP: {settings.Request} ({Payloads.TensorSource}); {settings.Phase.TotalSeconds:0} s per phase after a 3 s warm-up");

            // 1. One worker behind the gateway: ceiling, direct and through the gateway.
            double direct, viaGateway, ceiling, ceilingBatched;
            long macs;
            StepReport overloadReport;
            double overloadRate;
            await using (var cluster = await SelfHost.StartAsync(1, repository, Quiet(), Quiet(), cancellationToken))
            {
                await PrepareAsync(payloads, settings, cluster.GatewayUrl, cancellationToken);
                log.WriteLine("ceiling: raw ONNX Runtime in-process...");
                var version = Ceiling.ServedVersion(repository);
                (ceiling, macs, var provider) = Ceiling.Measure(version, 1, settings.Phase / 2);
                (ceilingBatched, _, _) = Ceiling.Measure(version, settings.CeilingBatch, settings.Phase / 2);
                md.AppendLine(C, $"- Model: {Path.GetFileName(Path.GetDirectoryName(version))}/{Path.GetFileName(version)}, {macs / 1e9:0.###} GMAC per ECG, execution provider {provider}");
                md.AppendLine(C, $"- Load average before the HTTP phases {MachineInfo.LoadAverage()}");
                var directRuns = new List<double>();
                var gatewayRuns = new List<double>();
                for (var round = 1; round <= settings.Rounds; round++)
                {
                    // ABBA order, so a drift in the machine's background load hits both paths alike.
                    foreach (var viaGatewayFirst in round % 2 == 0 ? new[] { true, false } : [false, true])
                    {
                        log.WriteLine(string.Create(C, $"round {round}: one worker, {(viaGatewayFirst ? "through the gateway" : "direct")}..."));
                        var measured = (await MeasureClosedAsync(viaGatewayFirst ? cluster.GatewayUrl : cluster.WorkerUrls[0], payloads, settings, settings.Users, 1, cancellationToken)).OkPerSecond;
                        (viaGatewayFirst ? gatewayRuns : directRuns).Add(measured);
                    }
                }

                direct = directRuns.Average();
                viaGateway = gatewayRuns.Average();
                md.AppendLine(C, $"- Direct / gateway rounds (ok/s): {string.Join(", ", directRuns.Zip(gatewayRuns, (d, g) => string.Create(C, $"{d:0.00} / {g:0.00}")))}");
                overloadRate = Math.Max(0.5, settings.Overload * viaGateway);
                log.WriteLine(string.Create(C, $"past saturation: {overloadRate:0.00}/s through the gateway..."));
                overloadReport = await MeasureOpenAsync(cluster.GatewayUrl, payloads, settings, overloadRate, cancellationToken);
            }

            var best = Math.Max(ceiling, ceilingBatched);
            var peak = Environment.ProcessorCount * (MachineInfo.CpuMhz() ?? 0) * 1e6 * settings.FlopsPerCycle;
            double Gflops(double ecgs) => ecgs * 2.0 * macs / 1e9;
            md.AppendLine();
            md.AppendLine("| path (1 worker) | ECGs/s | ÷ raw ceiling | GFLOP/s | ÷ peak FP32 |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            md.AppendLine(C, $"| raw ONNX Runtime, batch 1 | {ceiling:0.00} | {ceiling / best:0.00} | {Gflops(ceiling):0.0} | {Gflops(ceiling) * 1e9 / peak:0.000} |");
            md.AppendLine(C, $"| raw ONNX Runtime, batch {settings.CeilingBatch} | {ceilingBatched:0.00} | {ceilingBatched / best:0.00} | {Gflops(ceilingBatched):0.0} | {Gflops(ceilingBatched) * 1e9 / peak:0.000} |");
            md.AppendLine(C, $"| worker over HTTP, {settings.Users} users | {direct:0.00} | {direct / best:0.00} | {Gflops(direct):0.0} | {Gflops(direct) * 1e9 / peak:0.000} |");
            md.AppendLine(C, $"| gateway → worker, {settings.Users} users | {viaGateway:0.00} | {viaGateway / best:0.00} | {Gflops(viaGateway):0.0} | {Gflops(viaGateway) * 1e9 / peak:0.000} |");
            md.AppendLine();
            md.AppendLine(C, $"GFLOP/s = ECGs/s × 2 × {macs / 1e9:0.###} GMAC. Peak FP32 assumed: {Environment.ProcessorCount} cores × {MachineInfo.CpuMhz():0} MHz (the clock the system reports; boost may be higher) × {settings.FlopsPerCycle:0} FLOP/cycle = {peak / 1e9:0} GFLOP/s. Gateway ÷ direct: **{viaGateway / Math.Max(direct, 1e-9):0.00}** (mean of the rounds).");
            md.AppendLine();
            var shed = overloadReport.StatusCodes.Where(p => p.Key is "429" or "503" or "504").Sum(p => p.Value);
            md.AppendLine(C, $"Past saturation: open arrivals at {overloadRate:0.00}/s ({settings.Overload:0.#} × the gateway's closed-loop throughput) for {settings.Phase.TotalSeconds:0} s:");
            md.AppendLine();
            md.AppendLine("| scheduled | ok | ok/s | shed (429/503/504) | other failures | dropped by the generator | admitted p50 / p99 / max ms | refused p50 / p99 ms | status codes |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            md.AppendLine(C, $"| {overloadReport.Scheduled} | {overloadReport.Ok} | {overloadReport.OkPerSecond:0.00} | {shed} | {overloadReport.Failed - shed} | {overloadReport.Dropped} | {overloadReport.Latency.P50Ms:0} / {overloadReport.Latency.P99Ms:0} / {overloadReport.Latency.MaxMs:0} | {overloadReport.FailedLatency.P50Ms:0} / {overloadReport.FailedLatency.P99Ms:0} | {Format.Counts(overloadReport.StatusCodes)} |");

            // 2. Scaling with workers: the gateway in front of N workers, clients spread over 200 addresses.
            md.AppendLine();
            md.AppendLine(C, $"Scaling ({Environment.ProcessorCount} cores; each worker's ONNX Runtime uses all cores, so this measures contention, not added capacity):");
            md.AppendLine();
            md.AppendLine("| workers | users | ok/s | ÷ 1 worker | p50 / p99 ms | answered by |");
            md.AppendLine("|---:|---:|---:|---:|---:|---|");
            double? first = null;
            foreach (var n in settings.Scale)
            {
                log.WriteLine(string.Create(C, $"scaling: {n} worker(s)..."));
                await using var cluster = await SelfHost.StartAsync(n, repository, Quiet(), Quiet(), cancellationToken);
                var report = await MeasureClosedAsync(cluster.GatewayUrl, payloads, settings, settings.Users * n, 200, cancellationToken);
                first ??= report.OkPerSecond;
                md.AppendLine(C, $"| {n} | {settings.Users * n} | {report.OkPerSecond:0.00} | {report.OkPerSecond / Math.Max(first.Value, 1e-9):0.00} | {report.Latency.P50Ms:0} / {report.Latency.P99Ms:0} | {Format.Counts(report.Workers)} |");
            }

            // 3. Batching off vs on (the serving engine's Serving__MaxBatchSize).
            if (settings.CompareBatching is { } batchSize and > 1)
            {
                md.AppendLine();
                md.AppendLine("| one worker, gateway in front | ok/s | p50 / p99 ms |");
                md.AppendLine("|---|---:|---:|");
                var results = new List<double>();
                foreach (var size in new[] { 1, batchSize })
                {
                    log.WriteLine(string.Create(C, $"batching: Serving__MaxBatchSize={size}..."));
                    var worker = Quiet();
                    worker["Serving__MaxBatchSize"] = size.ToString(C);
                    await using var cluster = await SelfHost.StartAsync(1, repository, worker, Quiet(), cancellationToken);
                    var report = await MeasureClosedAsync(cluster.GatewayUrl, payloads, settings, Math.Max(settings.Users, 2 * batchSize), 200, cancellationToken);
                    results.Add(report.OkPerSecond);
                    md.AppendLine(C, $"| Serving__MaxBatchSize={size} | {report.OkPerSecond:0.00} | {report.Latency.P50Ms:0} / {report.Latency.P99Ms:0} |");
                }

                md.AppendLine();
                md.AppendLine(C, $"Batching on ÷ off: **{results[1] / Math.Max(results[0], 1e-9):0.00}**.");
            }

            md.AppendLine();
            md.AppendLine(C, $"Load average at the end {MachineInfo.LoadAverage()}.");
            return md.ToString();
        }
        finally
        {
            if (ownsRepository && Directory.Exists(repository))
            {
                Directory.Delete(repository, recursive: true);
            }
        }
    }

    private static Dictionary<string, string> Quiet() => new(StringComparer.Ordinal);

    private static async Task PrepareAsync(Payloads payloads, BenchSettings settings, Uri gateway, CancellationToken cancellationToken)
    {
        if (settings.Request == "oip-binary" && !payloads.HasTensor)
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            await payloads.LoadTensorAsync(client, gateway, cancellationToken);
        }
    }

    private static StepDefinition Step(Uri target, Payloads payloads, BenchSettings settings) => settings.Request == "oip-binary"
        ? new StepDefinition("oip-binary", 1, Requests.OipBinary(target, payloads))
        : new StepDefinition("web-form", 1, Requests.WebForm(target, payloads));

    private static async Task<StepReport> MeasureClosedAsync(Uri target, Payloads payloads, BenchSettings settings, int users, int clients, CancellationToken cancellationToken)
    {
        var bounds = new RunBounds { MaxDuration = settings.Phase + TimeSpan.FromMinutes(2), RequestTimeout = TimeSpan.FromMinutes(1) };
        using var pool = new ClientPool(clients, bounds.RequestTimeout, users);
        var runner = new ScenarioRunner(pool, bounds);
        var scenario = new Scenario { Name = "bench", Steps = [Step(target, payloads, settings)], Load = [new KeepConstantPhase(users, TimeSpan.FromSeconds(3))] };
        await runner.RunAsync(scenario, cancellationToken);
        var result = await runner.RunAsync(scenario with { Load = [new KeepConstantPhase(users, settings.Phase)] }, cancellationToken);
        return StepReport.From(result.Steps[0], result.Window);
    }

    private static async Task<StepReport> MeasureOpenAsync(Uri target, Payloads payloads, BenchSettings settings, double rate, CancellationToken cancellationToken)
    {
        var bounds = new RunBounds { MaxDuration = settings.Phase + TimeSpan.FromMinutes(3), RequestTimeout = TimeSpan.FromMinutes(2), MaxInFlight = 1024 };
        using var pool = new ClientPool(200, bounds.RequestTimeout, 16);
        var runner = new ScenarioRunner(pool, bounds);
        var scenario = new Scenario { Name = "overload", Steps = [Step(target, payloads, settings)], Load = [new InjectPhase(rate, settings.Phase)] };
        var result = await runner.RunAsync(scenario, cancellationToken);
        return StepReport.From(result.Steps[0], result.Window);
    }
}
