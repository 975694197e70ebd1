using System.CommandLine;
using System.Globalization;
using System.Text;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>
/// <c>ecg2af-load bench-protocols</c>: one ECG through the gateway in three wire forms, in one self-hosted run at the
/// same concurrency — Open Inference Protocol over gRPC (raw FP32 tensor), OIP over REST with the binary tensor
/// extension, and the web form's multipart upload of the ECG file (parsed and preprocessed by the worker) —
/// measured in alternating order (A B C, C B A, …): throughput, p50/p99, and CPU time per ECG of the gateway and of
/// the workers.
/// </summary>
internal static class ProtocolBenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Seconds per measured phase (one phase per arm and round).", DefaultValueFactory = _ => 20 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of unmeasured load before each phase.", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; odd rounds run the arms forward, even ones backward; medians reported.", DefaultValueFactory = _ => 4 };
        var users = new Option<int>("--users") { Description = "Closed-model concurrent clients (the issue's comparison: 64).", DefaultValueFactory = _ => 64 };
        var clients = new Option<int>("--clients") { Description = "Client source addresses the users spread over (one gRPC channel and one HTTP client each).", DefaultValueFactory = _ => 64 };
        var workers = new Option<int>("--workers") { Description = "Workers behind the gateway.", DefaultValueFactory = _ => 2 };
        var arms = new Option<string[]>("--arm") { Description = $"Arms to compare, in order: {string.Join(", ", ProtocolBench.Arms)}.", DefaultValueFactory = _ => [.. ProtocolBench.Arms], AllowMultipleArgumentsPerToken = true };
        arms.AcceptOnlyFromAmong([.. ProtocolBench.Arms]);
        var common = new BenchOptions("bench-protocols.md");
        var command = new Command("bench-protocols", "Compare gRPC, REST binary OIP and the multipart form through the gateway in one self-hosted run.")
        {
            seconds, warmup, rounds, users, clients, workers, arms,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new ProtocolBenchSettings(
                TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeSpan.FromSeconds(parse.GetValue(warmup)), parse.GetValue(rounds), parse.GetValue(users),
                parse.GetValue(clients), parse.GetValue(workers), parse.GetValue(arms)!, parse.GetValue(common.ModelRepository),
                common.SamplesFolder(parse), common.WorkerSettings(parse));
            if (settings.Phase <= TimeSpan.Zero || settings.Warmup < TimeSpan.Zero || settings.Rounds < 1 || settings.Users < 1 || settings.Clients < 1 || settings.Workers < 1 || settings.Arms.Count == 0)
            {
                Console.Error.WriteLine("--seconds, --rounds, --users, --clients and --workers must be positive, --warmup not negative, and at least one --arm given.");
                return LoadRun.UsageError;
            }

            await common.PrintAsync(parse, await ProtocolBench.ExecuteAsync(settings, Console.Out, cancellationToken), cancellationToken);
            return 0;
        });
        return command;
    }
}

internal sealed record ProtocolBenchSettings(
    TimeSpan Phase, TimeSpan Warmup, int Rounds, int Users, int Clients, int Workers, IReadOnlyList<string> Arms, string? ModelRepository, string SamplesFolder,
    IReadOnlyDictionary<string, string> WorkerSettings);

/// <summary>One measured phase of one arm: the step's figures and the CPU time the gateway and the workers used during it.</summary>
internal sealed record ProtocolPhase(StepReport Report, TimeSpan GatewayCpu, TimeSpan WorkersCpu)
{
    private long Ecgs => Math.Max(1, Report.Ok);

    public double GatewayCpuMsPerEcg => GatewayCpu.TotalMilliseconds / Ecgs;

    public double WorkersCpuMsPerEcg => WorkersCpu.TotalMilliseconds / Ecgs;
}

internal static class ProtocolBench
{
    /// <summary>The arms: gRPC ModelInfer, REST OIP with the binary tensor extension, the web form's multipart upload.</summary>
    public static readonly string[] Arms = ["oip-grpc", "oip-binary", "web-form"];

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Task<string> ExecuteAsync(ProtocolBenchSettings settings, TextWriter log, CancellationToken cancellationToken) =>
        BenchOptions.WithModelRepositoryAsync(settings.ModelRepository, async repository =>
        {
            // The same ECG in every arm: its file for the form, its model input (from the service's preprocess) for OIP.
            var payloads = Payloads.Load(settings.SamplesFolder, [[Payloads.TensorSource]]);
            var machine = BenchRun.MachineLine();
            await using var cluster = await SelfHost.StartAsync(settings.Workers, repository, new Dictionary<string, string>(settings.WorkerSettings), new Dictionary<string, string>(), cancellationToken);
            using (var control = ClientPool.Authorize(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, SelfHost.Key.Key))
            {
                await payloads.LoadTensorAsync(control, cluster.GatewayUrl, cancellationToken);
            }

            var timeout = TimeSpan.FromMinutes(1);
            using var http = new ClientPool(settings.Clients, timeout, connectionsPerClient: settings.Users, SelfHost.Key.Key);
            using var grpc = new GrpcClientPool(cluster.GatewayGrpcUrl, settings.Clients, timeout, SelfHost.Key.Key);
            var runner = new ScenarioRunner(http, new RunBounds { MaxDuration = settings.Warmup + settings.Phase + TimeSpan.FromMinutes(2), RequestTimeout = timeout });
            int[] processes = [cluster.Gateway.ProcessId, .. Enumerable.Range(0, settings.Workers).Select(w => cluster.Worker(w).ProcessId)];

            StepDefinition Step(string arm) => arm switch
            {
                "oip-grpc" => GrpcRequests.ModelInfer(arm, grpc, payloads),
                "oip-binary" => new StepDefinition(arm, 1, Requests.OipBinary(cluster.GatewayUrl, payloads)),
                _ => new StepDefinition(arm, 1, Requests.WebForm(cluster.GatewayUrl, payloads)),
            };

            async Task<ProtocolPhase> MeasureAsync(string arm)
            {
                // The gateway first, then every worker.
                var (report, cpu) = await BenchRun.MeasureClosedAsync(runner, Step(arm), settings.Users, settings.Warmup, settings.Phase, processes, cancellationToken);
                return new ProtocolPhase(report, cpu[0], cpu.Skip(1).Aggregate(TimeSpan.Zero, (a, b) => a + b));
            }

            var measured = await BenchRun.AlternateAsync(
                settings.Arms.Select(arm => (Func<Task<ProtocolPhase>>)(() => MeasureAsync(arm))).ToList(), settings.Rounds, log, "protocols");
            return Render(settings, measured, machine);
        });

    private static string Render(ProtocolBenchSettings settings, List<List<ProtocolPhase>> measured, string machine)
    {
        var md = new StringBuilder();
        md.AppendLine(C, $"## Protocol comparison through the gateway, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit `{MachineInfo.Commit(RepositoryLayout.Root)}`");
        md.AppendLine();
        md.AppendLine(machine);
        md.AppendLine(C, $"- Self-hosted gateway and {settings.Workers} worker(s) ({RepositoryLayout.Configuration} build); {settings.Users} closed-loop clients over {settings.Clients} client addresses; {settings.Phase.TotalSeconds:0.#} s per phase after {settings.Warmup.TotalSeconds:0.#} s of warm-up; {settings.Rounds} round(s), arms in alternating order");
        foreach (var (key, value) in settings.WorkerSettings)
        {
            md.AppendLine(C, $"- Worker setting: {key}={value}");
        }

        md.AppendLine(C, $"- One ECG ({Payloads.TensorSource}): oip-grpc sends its model input as raw FP32 in ModelInfer to the gateway's gRPC listener; oip-binary sends the same tensor as POST /v2/models/{{model}}/infer with the binary tensor extension; web-form uploads the file itself (multipart, name and email), which the worker parses and preprocesses");
        md.AppendLine();
        md.AppendLine("Per round:");
        md.AppendLine();
        md.AppendLine("| round | arm | ok | failed | ok/s | p50 ms | p99 ms | gateway CPU ms per ECG | workers CPU ms per ECG | status codes |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
        for (var round = 0; round < settings.Rounds; round++)
        {
            for (var arm = 0; arm < settings.Arms.Count; arm++)
            {
                var p = measured[arm][round];
                md.AppendLine(C, $"| {round + 1} | {settings.Arms[arm]} | {p.Report.Ok} | {p.Report.Failed} | {p.Report.OkPerSecond:0.00} | {p.Report.Latency.P50Ms:0.0} | {p.Report.Latency.P99Ms:0.0} | {p.GatewayCpuMsPerEcg:0.00} | {p.WorkersCpuMsPerEcg:0.0} | {Format.Counts(p.Report.StatusCodes)} |");
            }
        }

        var baseline = settings.Arms.ToList().IndexOf("oip-binary");
        var medians = measured.Select(phases => (
            Rate: BenchRun.Median(phases.Select(p => p.Report.OkPerSecond)),
            P50: BenchRun.Median(phases.Select(p => p.Report.Latency.P50Ms)),
            P99: BenchRun.Median(phases.Select(p => p.Report.Latency.P99Ms)),
            Gateway: BenchRun.Median(phases.Select(p => p.GatewayCpuMsPerEcg)),
            Workers: BenchRun.Median(phases.Select(p => p.WorkersCpuMsPerEcg)))).ToList();
        md.AppendLine();
        md.AppendLine(baseline >= 0 ? "Medians of the rounds, and ratios to REST binary OIP (oip-binary):" : "Medians of the rounds:");
        md.AppendLine();
        md.AppendLine("| arm | ok/s | p50 ms | p99 ms | gateway CPU ms per ECG | workers CPU ms per ECG | ok/s ÷ oip-binary | p99 ÷ oip-binary | gateway CPU ÷ oip-binary |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var arm = 0; arm < settings.Arms.Count; arm++)
        {
            var m = medians[arm];
            var ratios = baseline >= 0
                ? string.Create(C, $"{m.Rate / Math.Max(medians[baseline].Rate, 1e-9):0.00} | {m.P99 / Math.Max(medians[baseline].P99, 1e-9):0.00} | {m.Gateway / Math.Max(medians[baseline].Gateway, 1e-9):0.00}")
                : "– | – | –";
            md.AppendLine(C, $"| {settings.Arms[arm]} | {m.Rate:0.00} | {m.P50:0.0} | {m.P99:0.0} | {m.Gateway:0.00} | {m.Workers:0.0} | {ratios} |");
        }

        md.AppendLine();
        md.AppendLine("CPU time is user + system of the gateway process and of all worker processes during each measured phase, divided by the ECGs answered in it.");
        md.AppendLine();
        md.AppendLine(C, $"Load average at the end {MachineInfo.LoadAverage()}.");
        return md.ToString();
    }
}
