using System.Diagnostics;
using System.Globalization;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.LocalCluster;
using Ecg2Af.Serving.Benchmarks;

// Serving benchmark, every phase in one run on one machine (docs/benchmarks.md, "Serving"):
//   1. raw ONNX Runtime throughput in-process, the stand-in at each batch size (the ceiling);
//   2. the real worker process over HTTP (OIP binary tensors) at saturation, closed loop;
//   3. unloaded latency (one request at a time) and latency at 70 % of the measured peak, open loop at a constant
//      rate, latency counted from each request's scheduled send time (no coordinated omission).
// After one raw sweep, rounds repeat raw (at the best batch size), saturation, unloaded and loaded back to back, so a
// change in background load hits both sides of each ratio; the report gives every round and the median ratios.
var options = BenchmarkOptions.Parse(args);
if (options.Scenario == "batch")
{
    // The batch endpoint against the worker's single-record ceiling (docs/benchmarks.md, "Batch").
    await BatchBenchmark.RunAsync(options, args);
    return;
}

var culture = CultureInfo.InvariantCulture;
var report = new MarkdownReport();
void Line(string text) => report.Line(text);

var root = Directory.CreateTempSubdirectory("ecg2af-serving-bench-").FullName;
try
{
    var versionDir = Path.Combine(root, "ecg2af", "1");
    StandInModel.Write(versionDir, name: "ecg2af", version: "1");
    var (runtime, budgetError) = ThreadBudget.Resolve(new RuntimeOptions(), options.Loops, Environment.ProcessorCount);
    if (runtime is null)
    {
        throw new ArgumentException(budgetError);
    }

    using var version = ServedVersion.Load(versionDir, "ecg2af", "1", runtime, options.Loops);
    Line($"## Serving benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    Line("");
    foreach (var fact in Machine.Describe(runtime, options.Loops, version.ExecutionProvider))
    {
        Line($"- {fact}");
    }

    foreach (var (key, value) in options.WorkerEnvironment)
    {
        Line($"- Worker setting: {key}={value}");
    }

    Line($"- Command: `dotnet run -c Release --project inference-worker/Ecg2Af.Serving.Benchmarks --{(args.Length > 0 ? " " + string.Join(' ', args) : "")}`");

    // The raw sweep gives the throughput curve; its best batch size becomes the worker's max batch size (unless
    // given), as an operator would tune it, and is the ceiling re-measured in every round.
    var sweep = RawSweep(version, options);
    var maxBatch = options.MaxBatchSize > 0 ? options.MaxBatchSize : sweep.MaxBy(r => r.Throughput).Batch;

    var settings = new Dictionary<string, string>
    {
        ["Model__RepositoryPath"] = root,
        ["Model__BuildStandInWhenMissing"] = "false",
        ["Serving__MaxBatchSize"] = maxBatch.ToString(culture),
        ["Serving__InferenceLoops"] = options.Loops.ToString(culture),
        ["Serving__QueueCapacity__Routine"] = "100000",
        ["Serving__DefaultTimeout"] = "00:10:00",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
    };
    foreach (var (key, value) in options.WorkerEnvironment)
    {
        settings[key] = value;
    }

    // Direct calls to a worker need a key, as for any client: one for this run, checked by the worker itself.
    var apiKey = TestApiKey.Create("serving-benchmarks");
    foreach (var (key, value) in apiKey.Settings(0))
    {
        settings[key] = value;
    }

    await using var worker = await ServiceProcess.StartAsync("worker", RepositoryLayout.WorkerDll, settings, 0, TimeSpan.FromMinutes(3));
    await LocalCluster.WaitReadyAsync(worker, TimeSpan.FromMinutes(3));
    using var load = new HttpLoad(worker.Url, apiKey);
    var concurrency = Math.Max(8, 2 * maxBatch * options.Loops);

    // Each round, back to back: raw ONNX Runtime at that batch size, the worker at saturation, unloaded latency, then
    // an open loop at the load fraction of this round's saturation throughput. Adjacent phases share the machine's
    // background load, so each round's ratios compare like with like.
    var rounds = new List<(double Raw, LoadResult Saturation, double AverageBatch, double ComputeRate, double Rate, LoadResult Unloaded, LoadResult Loaded)>();
    for (var round = 0; round < options.Rounds; round++)
    {
        var (runs, seconds) = RawRuns(version, maxBatch, options.Loops, options.RawSeconds);
        var raw = runs * maxBatch / seconds;
        var before = await load.BatchStatsAsync();
        var saturation = await load.ClosedLoopAsync(concurrency, options.WarmupSeconds, options.LoadSeconds);
        var after = await load.BatchStatsAsync();
        var items = after.Items - before.Items;
        var unloaded = await load.SequentialAsync(options.UnloadedRequests);
        var rate = options.LoadFraction * saturation.Throughput;
        var loaded = await load.OpenLoopAsync(rate, options.WarmupSeconds, options.LoadSeconds);
        rounds.Add((raw, saturation, items / Math.Max(1, after.Runs - before.Runs), items / Math.Max(1e-9, after.ComputeSeconds - before.ComputeSeconds),
            rate, unloaded, loaded));
    }

    Line("");
    Line("Raw ONNX Runtime in-process, the stand-in at each batch size (the ceiling):");
    Line("");
    Line("| batch size | runs | ms per run | ECGs/s |");
    Line("|---:|---:|---:|---:|");
    foreach (var (batch, runs, seconds, throughput) in sweep)
    {
        Line(string.Create(culture, $"| {batch} | {runs} | {seconds * 1000 * options.Loops / runs:F0} | {throughput:F2} |"));
    }

    Line("");
    Line(string.Create(culture,
        $"Rounds: raw at batch {maxBatch} for {options.RawSeconds:F0} s; the worker (max batch {maxBatch}) over HTTP with OIP binary tensors at saturation, closed loop with {concurrency} clients for {options.LoadSeconds:F0} s after {options.WarmupSeconds:F0} s:"));
    Line("");
    Line("| round | raw ECGs/s | worker ECGs/s at saturation | ratio | average batch | ECGs per s of ONNX Runtime time in the worker |");
    Line("|---:|---:|---:|---:|---:|---:|");
    for (var i = 0; i < rounds.Count; i++)
    {
        var r = rounds[i];
        Line(string.Create(culture,
            $"| {i + 1} | {r.Raw:F2} | {r.Saturation.Throughput:F2} ({r.Saturation.Ok} ok, {r.Saturation.Failed} failed) | {r.Saturation.Throughput / r.Raw:F2} | {r.AverageBatch:F1} | {r.ComputeRate:F2} |"));
    }

    Line("");
    Line(string.Create(culture,
        $"Then {options.UnloadedRequests} sequential requests (unloaded), and an open loop at {options.LoadFraction:P0} of the round's saturation throughput for {options.LoadSeconds:F0} s after {options.WarmupSeconds:F0} s, latency from each request's scheduled send time:"));
    Line("");
    Line("| round | unloaded p50 / p99 ms | offered → achieved req/s | loaded p50 / p99 / max ms | late sends | ratio p99 ÷ unloaded p50 |");
    Line("|---:|---:|---:|---:|---:|---:|");
    for (var i = 0; i < rounds.Count; i++)
    {
        var (_, _, _, _, rate, u, l) = rounds[i];
        Line(string.Create(culture,
            $"| {i + 1} | {u.P50:F0} / {u.P99:F0} | {rate:F2} → {l.Throughput:F2} ({l.Ok} ok, {l.Failed} failed) | {l.P50:F0} / {l.P99:F0} / {l.Max:F0} | {l.Late} | {l.P99 / u.P50:F2} |"));
    }

    var throughputRatio = Median(rounds.Select(r => r.Saturation.Throughput / r.Raw));
    var latencyRatio = Median(rounds.Select(r => r.Loaded.P99 / r.Unloaded.P50));
    Line("");
    Line("| ratio (median of the rounds) | measured | goal |");
    Line("|---|---:|---:|");
    Line(string.Create(culture, $"| worker throughput at saturation ÷ raw ONNX Runtime throughput at the best batch size | {throughputRatio:F2} | ≥ 0.90 |"));
    Line(string.Create(culture, $"| p99 latency at {options.LoadFraction:P0} of peak ÷ unloaded p50 | {latencyRatio:F2} | ≤ 2.5 |"));

    await report.SaveAsync(options.Output);
}
finally
{
    Directory.Delete(root, recursive: true);
}

static List<(int Batch, int Runs, double Seconds, double Throughput)> RawSweep(ServedVersion version, BenchmarkOptions options)
{
    var results = new List<(int, int, double, double)>();
    foreach (var batch in options.BatchSizes)
    {
        var (runs, seconds) = RawRuns(version, batch, options.Loops, options.RawSeconds);
        results.Add((batch, runs, seconds, runs * batch / seconds));
    }

    return results;
}

static (int Runs, double Seconds) RawRuns(ServedVersion version, int batch, int loops, double seconds)
{
    var input = new float[batch * version.InputLength];
    var random = new Random(batch);
    for (var i = 0; i < input.Length; i++)
    {
        input[i] = (float)((random.NextDouble() * 4) - 2);
    }

    var outputs = version.OutputSizes.Select(size => new float[size * batch]).ToArray();
    version.Run(0, input, batch, outputs);
    var runs = 0;
    var watch = Stopwatch.StartNew();
    Parallel.For(0, loops, new ParallelOptions { MaxDegreeOfParallelism = loops }, loop =>
    {
        var own = version.OutputSizes.Select(size => new float[size * batch]).ToArray();
        var mine = 0;
        while (watch.Elapsed.TotalSeconds < seconds || mine < 2)
        {
            version.Run(loop, input, batch, own);
            mine++;
        }

        Interlocked.Add(ref runs, mine);
    });
    return (runs, watch.Elapsed.TotalSeconds);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
