using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.LocalCluster;
using Ecg2Af.Serving.Benchmarks;

// Serving benchmark, all phases in one run on one machine (docs/benchmarks.md, "Serving"):
//   1. raw ONNX Runtime throughput in-process, the stand-in at each batch size (the ceiling);
//   2. the real worker process over HTTP (OIP binary tensors) at saturation, closed loop;
//   3. unloaded latency (one request at a time) and latency at 70 % of the measured peak, open loop at a constant
//      rate with latency counted from each request's scheduled send time (no coordinated omission).
var options = BenchmarkOptions.Parse(args);
var culture = CultureInfo.InvariantCulture;
var report = new StringBuilder();
void Line(string text)
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

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

    // 1. Raw ONNX Runtime, in-process, same sessions and thread budget as the worker.
    var raw = new List<(int Batch, double Throughput)>();
    using (var version = ServedVersion.Load(versionDir, "ecg2af", "1", runtime, options.Loops))
    {
        Line($"## Serving benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line("");
        foreach (var fact in Machine.Describe(runtime, options.Loops, version.ExecutionProvider))
        {
            Line($"- {fact}");
        }

        Line("");
        Line("| raw ONNX Runtime, batch size | runs | ms per run | ECGs/s |");
        Line("|---:|---:|---:|---:|");
        foreach (var batch in options.BatchSizes)
        {
            var (runs, seconds) = RawRuns(version, batch, options.Loops, options.RawSeconds);
            var throughput = runs * batch / seconds;
            raw.Add((batch, throughput));
            Line(string.Create(culture, $"| {batch} | {runs} | {seconds * 1000 * options.Loops / runs:F0} | {throughput:F2} |"));
        }
    }

    var best = raw.MaxBy(r => r.Throughput);
    var maxBatch = options.MaxBatchSize > 0 ? options.MaxBatchSize : best.Batch;

    // 2-3. The worker process over HTTP.
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
        Line($"- Worker setting: {key}={value}");
    }

    await using var worker = await ServiceProcess.StartAsync("worker", RepositoryLayout.WorkerDll, settings, 0, TimeSpan.FromMinutes(3));
    await LocalCluster.WaitReadyAsync(worker, TimeSpan.FromMinutes(3));
    using var load = new HttpLoad(worker.Url);

    var concurrency = Math.Max(8, 2 * maxBatch * options.Loops);
    var batchesBefore = await load.BatchStatsAsync();
    var saturation = await load.ClosedLoopAsync(concurrency, options.WarmupSeconds, options.LoadSeconds);
    var batchesAfter = await load.BatchStatsAsync();
    var averageBatch = (batchesAfter.Items - batchesBefore.Items) / Math.Max(1, batchesAfter.Runs - batchesBefore.Runs);
    var computeRate = (batchesAfter.Items - batchesBefore.Items) / Math.Max(1e-9, batchesAfter.ComputeSeconds - batchesBefore.ComputeSeconds);

    var unloaded = await load.SequentialAsync(options.UnloadedRequests);
    var rate = options.LoadFraction * saturation.Throughput;
    var loaded = await load.OpenLoopAsync(rate, options.WarmupSeconds, options.LoadSeconds);

    var throughputRatio = saturation.Throughput / best.Throughput;
    var latencyRatio = loaded.P99 / unloaded.P50;
    Line("");
    Line("| worker over HTTP (OIP binary tensors) | figure |");
    Line("|---|---:|");
    Line(string.Create(culture, $"| worker max batch size | {maxBatch} |"));
    Line(string.Create(culture, $"| saturation: closed loop, {concurrency} clients, {options.LoadSeconds:F0} s | {saturation.Throughput:F2} ECGs/s ({saturation.Ok} ok, {saturation.Failed} failed) |"));
    Line(string.Create(culture, $"| saturation: average batch; ECGs per second of ONNX Runtime time inside the worker | {averageBatch:F1}; {computeRate:F2} |"));
    Line(string.Create(culture, $"| unloaded: {unloaded.Ok} sequential requests, p50 / p99 | {unloaded.P50:F0} / {unloaded.P99:F0} ms |"));
    Line(string.Create(culture, $"| {options.LoadFraction:P0} load: open loop at {rate:F2} req/s for {options.LoadSeconds:F0} s, achieved | {loaded.Throughput:F2} req/s ({loaded.Ok} ok, {loaded.Failed} failed, {loaded.Late} sent > 5 ms late) |"));
    Line(string.Create(culture, $"| {options.LoadFraction:P0} load: p50 / p99 / max from scheduled send | {loaded.P50:F0} / {loaded.P99:F0} / {loaded.Max:F0} ms |"));
    Line("");
    Line("| ratio (same run) | measured | goal |");
    Line("|---|---:|---:|");
    Line(string.Create(culture, $"| worker saturation ÷ best raw (batch {best.Batch}, {best.Throughput:F2} ECGs/s) | {throughputRatio:F2} | ≥ 0.90 |"));
    Line(string.Create(culture, $"| p99 at {options.LoadFraction:P0} of peak ÷ unloaded p50 | {latencyRatio:F2} | ≤ 2.5 |"));

    if (options.Output is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, report.ToString());
        Console.WriteLine($"Report written to {path}");
    }
}
finally
{
    Directory.Delete(root, recursive: true);
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
