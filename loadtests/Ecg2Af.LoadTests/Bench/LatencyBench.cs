using System.CommandLine;
using System.Globalization;
using System.Text;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>
/// <c>ecg2af-load bench-latency</c>: the latency figures of docs/benchmarks.md ("Gateway", "Serving") in one
/// self-hosted run of a gateway and one worker. (1) What the gateway adds on a trivial route: serial requests to the
/// worker's <c>/health/live</c>, directly and through a gateway route onto it, in alternating blocks. (2) The tail
/// under load, in rounds: the worker (or the gateway) at saturation, closed loop; serial requests (unloaded); then an
/// open loop at a fraction of that round's saturation throughput, latency from each request's scheduled send time.
/// </summary>
internal static class LatencyBenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Seconds of each saturation and each open-loop phase.", DefaultValueFactory = _ => 15 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of unmeasured load before each of them.", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of saturation, unloaded and open loop; the ratio reported is their median.", DefaultValueFactory = _ => 5 };
        var users = new Option<int>("--users") { Description = "Closed-loop users at saturation (2 × the worker's max batch lets it fill batches).", DefaultValueFactory = _ => 32 };
        var unloaded = new Option<int>("--unloaded-requests") { Description = "Serial requests of each unloaded measurement (after three unmeasured).", DefaultValueFactory = _ => 12 };
        var fraction = new Option<double>("--load-fraction") { Description = "The open loop's rate as a fraction of the round's saturation throughput.", DefaultValueFactory = _ => 0.7 };
        var trivial = new Option<int>("--trivial-requests") { Description = "Serial requests per path on the trivial route, in alternating blocks of 250 (0: skip).", DefaultValueFactory = _ => 2000 };
        var viaGateway = new Option<bool>("--via-gateway") { Description = "Measure the tail through the gateway (default: the worker directly)." };
        var common = new BenchOptions("bench-latency.md");
        var command = new Command("bench-latency", "Measure the gateway's added latency on a trivial route and the tail at a fraction of peak in one self-hosted run.")
        {
            seconds, warmup, rounds, users, unloaded, fraction, trivial, viaGateway,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new LatencyBenchSettings(
                TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeSpan.FromSeconds(parse.GetValue(warmup)), parse.GetValue(rounds), parse.GetValue(users),
                parse.GetValue(unloaded), parse.GetValue(fraction), parse.GetValue(trivial), parse.GetValue(viaGateway), parse.GetValue(common.ModelRepository),
                common.SamplesFolder(parse), common.WorkerSettings(parse));
            if (settings.Phase <= TimeSpan.Zero || settings.Warmup < TimeSpan.Zero || settings.Rounds < 1 || settings.Users < 1 || settings.UnloadedRequests < 1
                || settings.LoadFraction is <= 0 or > 1 || settings.TrivialRequests < 0)
            {
                Console.Error.WriteLine("--seconds, --rounds, --users and --unloaded-requests must be positive, --warmup and --trivial-requests not negative, --load-fraction in (0, 1].");
                return LoadRun.UsageError;
            }

            await common.PrintAsync(parse, await LatencyBench.ExecuteAsync(settings, Console.Out, cancellationToken), cancellationToken);
            return 0;
        });
        return command;
    }
}

internal sealed record LatencyBenchSettings(
    TimeSpan Phase, TimeSpan Warmup, int Rounds, int Users, int UnloadedRequests, double LoadFraction, int TrivialRequests, bool ViaGateway,
    string? ModelRepository, string SamplesFolder, IReadOnlyDictionary<string, string> WorkerSettings);

/// <summary>One round of the tail measurement: saturation, unloaded and the open loop at the fraction of that saturation.</summary>
internal sealed record TailRound(StepReport Saturation, StepReport Unloaded, double Rate, StepReport Loaded)
{
    public double Ratio => Loaded.Latency.P99Ms / Math.Max(Unloaded.Latency.P50Ms, 1e-9);
}

internal static class LatencyBench
{
    /// <summary>The gateway route onto the worker's <c>/health/live</c> that the trivial-route measurement adds.</summary>
    public const string TrivialRoute = "/_bench/live";

    private const int Block = 250;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Task<string> ExecuteAsync(LatencyBenchSettings settings, TextWriter log, CancellationToken cancellationToken) =>
        BenchOptions.WithModelRepositoryAsync(settings.ModelRepository, async repository =>
        {
            var payloads = Payloads.Load(settings.SamplesFolder, [[Payloads.TensorSource]]);
            var md = BenchOptions.Header("Latency benchmark", settings.WorkerSettings);
            var gatewaySettings = new Dictionary<string, string>
            {
                // The per-client limit (meant for anonymous web-form users) would measure itself; every other step of
                // the gateway's pipeline runs.
                ["Gateway__RateLimit__Enabled"] = "false",
                ["ReverseProxy__Routes__bench-live__ClusterId"] = LocalCluster.LocalCluster.ClusterId,
                ["ReverseProxy__Routes__bench-live__Match__Path"] = TrivialRoute,
                ["ReverseProxy__Routes__bench-live__Transforms__0__PathSet"] = "/health/live",
            };
            await using var cluster = await SelfHost.StartAsync(1, repository, settings.WorkerSettings, gatewaySettings, cancellationToken);
            using (var control = ClientPool.Authorize(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, SelfHost.Key.Key))
            {
                await payloads.LoadTensorAsync(control, cluster.GatewayUrl, cancellationToken);
            }

            md.AppendLine(C, $"- Self-hosted gateway and one worker ({LocalCluster.RepositoryLayout.Configuration} build), worker defaults unless set above; requests carry the API key");
            if (settings.TrivialRequests > 0)
            {
                await TrivialRouteAsync(md, cluster, settings.TrivialRequests, log, cancellationToken);
            }

            var target = settings.ViaGateway ? cluster.GatewayUrl : cluster.WorkerUrls[0];
            var step = new StepDefinition("oip-binary", 1, Requests.OipBinary(target, payloads));
            var bounds = new RunBounds { MaxDuration = settings.Warmup + settings.Phase + TimeSpan.FromMinutes(3), RequestTimeout = TimeSpan.FromMinutes(2), MaxInFlight = 1024 };
            using var pool = new ClientPool(16, bounds.RequestTimeout, connectionsPerClient: settings.Users, SelfHost.Key.Key);
            var runner = new ScenarioRunner(pool, bounds);
            var tail = new List<TailRound>();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                log.WriteLine(string.Create(C, $"tail: round {round} of {settings.Rounds}..."));
                var (saturation, _) = await BenchRun.MeasureClosedAsync(runner, step, settings.Users, settings.Warmup, settings.Phase, [], cancellationToken);
                await BenchOptions.SerialAsync(pool, step, 3, cancellationToken);
                var serial = await BenchOptions.SerialAsync(pool, step, settings.UnloadedRequests, cancellationToken);
                var rate = Math.Max(0.1, settings.LoadFraction * saturation.OkPerSecond);
                var openLoop = new Scenario { Name = "open-" + step.Name, Steps = [step], Load = [new InjectPhase(rate, settings.Phase)] };
                await runner.WarmUpAsync(openLoop, settings.Warmup, cancellationToken);
                var open = await runner.RunAsync(openLoop, cancellationToken);
                tail.Add(new TailRound(saturation, StepReport.From(serial, TimeSpan.FromSeconds(1)), rate, StepReport.From(open.Steps[0], open.Window)));
            }

            md.AppendLine();
            md.AppendLine(C, $"Tail, {(settings.ViaGateway ? "through the gateway" : "the worker directly")}, OIP binary requests of one ECG ({Payloads.TensorSource}). Each round: {settings.Users} closed-loop users at saturation for {settings.Phase.TotalSeconds:0.#} s; {settings.UnloadedRequests} serial requests (unloaded); an open loop at {settings.LoadFraction:P0} of the round's saturation throughput for {settings.Phase.TotalSeconds:0.#} s. Each phase after {settings.Warmup.TotalSeconds:0.#} s of unmeasured load; open-loop latency from each request's scheduled send time; a send more than {bounds.LateTolerance.TotalMilliseconds:0} ms behind its schedule is late.");
            md.AppendLine();
            md.AppendLine("| round | saturation ok/s | unloaded p50 / p99 ms | offered → achieved req/s | loaded p50 / p99 / max ms | late sends | failed | p99 ÷ unloaded p50 |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (var i = 0; i < tail.Count; i++)
            {
                var (s, u, rate, l) = tail[i];
                md.AppendLine(C, $"| {i + 1} | {s.OkPerSecond:0.00} | {u.Latency.P50Ms:0} / {u.Latency.P99Ms:0} | {rate:0.00} → {l.Requests / settings.Phase.TotalSeconds:0.00} | {l.Latency.P50Ms:0} / {l.Latency.P99Ms:0} / {l.Latency.MaxMs:0} | {l.Late} | {s.Failed + u.Failed + l.Failed + l.Dropped} | {tail[i].Ratio:0.00} |");
            }

            md.AppendLine();
            md.AppendLine(C, $"p99 at {settings.LoadFraction:P0} of peak ÷ unloaded p50, median of the rounds: **{BenchRun.Median(tail.Select(r => r.Ratio)):0.00}** (goal ≤ 2.5).");
            md.AppendLine();
            md.AppendLine(C, $"Load average at the end {MachineInfo.LoadAverage()}.");
            return md.ToString();
        });

    /// <summary>
    /// Serial GETs of the worker's <c>/health/live</c> on one kept-alive connection, directly and through the gateway's
    /// <see cref="TrivialRoute"/> (the gateway's pipeline, its per-client rate limit off: client address, deadline, failover, hash, forwarder),
    /// in alternating blocks after 300 unmeasured of each; the latencies of all blocks of a path together.
    /// </summary>
    private static async Task TrivialRouteAsync(StringBuilder md, LocalCluster.LocalCluster cluster, int requests, TextWriter log, CancellationToken cancellationToken)
    {
        using var serial = new ClientPool(1, TimeSpan.FromSeconds(30), connectionsPerClient: 1, SelfHost.Key.Key);
        StepDefinition Get(Uri url) => new("live", 1, _ => new HttpRequestMessage(HttpMethod.Get, url));
        var paths = new[] { Get(new Uri(cluster.WorkerUrls[0], "/health/live")), Get(new Uri(cluster.GatewayUrl, TrivialRoute)) };
        var histograms = paths.Select(_ => Histograms.Plain()).ToArray();
        var failed = new long[paths.Length];
        foreach (var path in paths)
        {
            await BenchOptions.SerialAsync(serial, path, 300, cancellationToken);
        }

        log.WriteLine(string.Create(C, $"trivial route: {requests} serial requests per path..."));
        for (var done = 0; done < requests; done += Block)
        {
            for (var p = 0; p < paths.Length; p++)
            {
                var block = await BenchOptions.SerialAsync(serial, paths[p], Math.Min(Block, requests - done), cancellationToken);
                histograms[p].Add(block.OkLatency);
                failed[p] += block.FailedCount;
            }
        }

        var stats = histograms.Select(h => LatencyStats.From(h)).ToArray();
        md.AppendLine();
        md.AppendLine(C, $"Trivial route: GET /health/live of the worker, one request at a time on one kept-alive connection, {requests} per path in alternating blocks of {Block}:");
        md.AppendLine();
        md.AppendLine("| path | ok | failed | p50 ms | p95 ms | p99 ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, i) in new[] { ("worker directly", 0), ($"through the gateway ({TrivialRoute})", 1) })
        {
            md.AppendLine(C, $"| {name} | {stats[i].Count} | {failed[i]} | {stats[i].P50Ms:0.000} | {stats[i].P95Ms:0.000} | {stats[i].P99Ms:0.000} |");
        }

        md.AppendLine();
        md.AppendLine(C, $"Added by the gateway at the median: **{stats[1].P50Ms - stats[0].P50Ms:0.000} ms** (goal < 1 ms).");
    }
}
