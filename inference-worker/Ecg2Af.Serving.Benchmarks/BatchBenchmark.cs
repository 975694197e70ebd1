using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Serving.Benchmarks;

/// <summary>
/// <c>--scenario batch</c> (docs/benchmarks.md, "Batch"): one real worker process; its single-record throughput ceiling
/// (concurrent <c>POST /api/v1/predictions</c>, closed loop) measured before and after one
/// <c>POST /api/v1/predictions:batch</c> of <see cref="BenchmarkOptions.Records"/> records generated from the shared
/// samples, whose throughput and the worker's memory (VmRSS sampled through the run, VmHWM reset before it) are reported.
/// </summary>
internal static class BatchBenchmark
{
    private const int SingleRecordPool = 60;

    public static async Task RunAsync(BenchmarkOptions options, string[] args)
    {
        var culture = CultureInfo.InvariantCulture;
        var report = new MarkdownReport();
        void Line(string text) => report.Line(text);

        var root = Directory.CreateTempSubdirectory("ecg2af-batch-bench-").FullName;
        try
        {
            StandInModel.Write(Path.Combine(root, "models", "ecg2af", "1"), name: "ecg2af", version: "1");
            var input = Path.Combine(root, "records");
            var names = SampleRecords.Generate(input, options.Records);
            var files = Directory.GetFiles(input).Order(StringComparer.Ordinal).ToList();
            var bytes = files.Sum(f => new FileInfo(f).Length);
            var maxBatch = options.MaxBatchSize > 0 ? options.MaxBatchSize : 16;
            var settings = new Dictionary<string, string>
            {
                ["Model__RepositoryPath"] = Path.Combine(root, "models"),
                ["Audit__SqlitePath"] = Path.Combine(root, "audit.db"),
                ["Serving__MaxBatchSize"] = maxBatch.ToString(culture),
                ["Serving__InferenceLoops"] = options.Loops.ToString(culture),
                ["Serving__QueueCapacity__Routine"] = "100000",
                ["Serving__DefaultTimeout"] = "00:10:00",
                ["Batch__MaxRecords"] = options.Records.ToString(culture),
                ["Batch__MaxFiles"] = (2 * options.Records).ToString(culture),
                ["Batch__MaxRequestBytes"] = (bytes + (64L << 20)).ToString(culture),
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

            var (runtime, _) = ThreadBudget.Resolve(new RuntimeOptions(), options.Loops, Environment.ProcessorCount);
            Line($"## Batch benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Line("");
            foreach (var fact in Machine.Describe(runtime ?? new RuntimeOptions(), options.Loops, "cpu (the worker reports it in ecg2af_model_info)"))
            {
                Line($"- {fact}");
            }

            Line($"- Worker: max batch {maxBatch}, {options.Loops} loop(s), Batch:Window {settings.GetValueOrDefault("Batch__Window", "32")}; audit to SQLite; {string.Join(", ", options.WorkerEnvironment.Select(e => $"{e.Key}={e.Value}"))}");
            Line($"- Records: {names.Count} generated from ../shared/ecg-samples (4 WFDB records renamed, 2 XML files copied, in turn), {files.Count} files, {bytes / 1048576.0:F1} MiB");
            Line($"- Command: `dotnet run -c Release --project inference-worker/Ecg2Af.Serving.Benchmarks -- {string.Join(' ', args)}`");

            await using var worker = await ServiceProcess.StartAsync("worker", RepositoryLayout.WorkerDll, settings, 0, TimeSpan.FromMinutes(3));
            await LocalCluster.LocalCluster.WaitReadyAsync(worker, TimeSpan.FromMinutes(3));
            using var client = apiKey.Authorize(new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 1024 })
            {
                BaseAddress = worker.Url,
                Timeout = Timeout.InfiniteTimeSpan,
            });
            var singles = SingleRecords(input, names.Take(SingleRecordPool)).ToList();
            var concurrency = Math.Max(8, 2 * maxBatch * options.Loops);

            var before = await SinglesAsync(client, singles, concurrency, options.WarmupSeconds, options.LoadSeconds);
            var peakAfterSingles = Memory(worker.ProcessId, "VmHWM");
            ResetPeak(worker.ProcessId);
            var rssBefore = Memory(worker.ProcessId, "VmRSS");
            var batch = await BatchAsync(client, worker.ProcessId, files, names.Count);
            var peakDuringBatch = Memory(worker.ProcessId, "VmHWM");
            var after = await SinglesAsync(client, singles, concurrency, options.WarmupSeconds, options.LoadSeconds);
            var ceiling = (before.Throughput + after.Throughput) / 2;

            Line("");
            Line(string.Create(culture,
                $"Single-record ceiling: {concurrency} clients posting one record each back to back (POST /api/v1/predictions, {SingleRecordPool} of the records in turn), {options.LoadSeconds:F0} s after {options.WarmupSeconds:F0} s, before and after the batch. Batch: all {names.Count} records in one POST /api/v1/predictions:batch (NDJSON), from the first byte sent to the last answer read."));
            Line("");
            Line("| phase | records | ok | failed | seconds | records/s |");
            Line("|---|---:|---:|---:|---:|---:|");
            Line(string.Create(culture, $"| single, before | {before.Ok + before.Failed} | {before.Ok} | {before.Failed} | {before.Seconds:F1} | {before.Throughput:F2} |"));
            Line(string.Create(culture, $"| batch | {batch.Items} | {batch.Ok} | {batch.Items - batch.Ok} | {batch.Seconds:F1} | {batch.Throughput:F2} |"));
            Line(string.Create(culture, $"| single, after | {after.Ok + after.Failed} | {after.Ok} | {after.Failed} | {after.Seconds:F1} | {after.Throughput:F2} |"));
            Line("");
            Line("Worker memory through the batch (VmRSS when the given share of the answers had arrived):");
            Line("");
            Line("| answered | " + string.Join(" | ", batch.Rss.Select(r => $"{r.Percent}%")) + " |");
            Line("|---|" + string.Concat(batch.Rss.Select(_ => "---:|")));
            Line("| VmRSS MiB | " + string.Join(" | ", batch.Rss.Select(r => (r.Kb / 1024).ToString(culture))) + " |");
            Line("");
            Line("| figure | measured | goal |");
            Line("|---|---:|---:|");
            Line(string.Create(culture, $"| batch throughput ÷ single-record ceiling (mean of before and after) | {batch.Throughput / ceiling:F2} | ≥ 0.90 |"));
            Line(string.Create(culture, $"| worker peak working set during the batch (VmHWM, reset when it started) | {peakDuringBatch / 1024} MiB | flat |"));
            Line(string.Create(culture, $"| worker VmRSS when the batch started → peak during it | {rssBefore / 1024} → {peakDuringBatch / 1024} MiB | |"));
            Line(string.Create(culture, $"| VmRSS at 50 % → 100 % of the answers | {batch.Rss.First(r => r.Percent >= 50).Kb / 1024} → {batch.Rss[^1].Kb / 1024} MiB | no growth with records |"));
            Line(string.Create(culture, $"| worker peak working set during the first single-record phase (VmHWM) | {peakAfterSingles / 1024} MiB | |"));

            await report.SaveAsync(options.Output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record SinglesResult(int Ok, int Failed, double Seconds, double Throughput);

    private sealed record BatchResult(int Items, int Ok, double Seconds, double Throughput, List<(int Percent, long Kb)> Rss);

    /// <summary>The files of each record, by record name (a WFDB header and its signal file, or one XML file).</summary>
    private static IEnumerable<(string Name, byte[] Bytes)[]> SingleRecords(string folder, IEnumerable<string> names) =>
        names.Select(name => Directory.GetFiles(folder, name + ".*").Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToArray());

    private static MultipartFormDataContent Form(IEnumerable<(string Name, Func<HttpContent> Content)> files)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("Benchmark"), "name" },
            { new StringContent("benchmark@example.org"), "email" },
        };
        foreach (var (name, content) in files)
        {
            var part = content();
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "ecg", name);
        }

        return form;
    }

    private static async Task<SinglesResult> SinglesAsync(HttpClient client, List<(string Name, byte[] Bytes)[]> records, int concurrency, double warmup, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var until = warmup + seconds;
        int ok = 0, failed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async c =>
        {
            for (var n = c; clock.Elapsed.TotalSeconds < until; n += concurrency)
            {
                var record = records[n % records.Count];
                using var form = Form(record.Select(f => (f.Name, (Func<HttpContent>)(() => new ByteArrayContent(f.Bytes)))));
                using var response = await client.PostAsync("/api/v1/predictions", form);
                var done = clock.Elapsed.TotalSeconds;
                if (done >= warmup && done < until)
                {
                    _ = response.IsSuccessStatusCode ? Interlocked.Increment(ref ok) : Interlocked.Increment(ref failed);
                }
            }
        }));
        return new SinglesResult(ok, failed, seconds, ok / seconds);
    }

    private static async Task<BatchResult> BatchAsync(HttpClient client, int pid, List<string> files, int records)
    {
        // File parts stream from disk, so the load generator's own memory stays small too.
        using var form = Form(files.Select(p => (Path.GetFileName(p), (Func<HttpContent>)(() => new StreamContent(File.OpenRead(p))))));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predictions:batch") { Content = form };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var rss = new List<(int, long)>();
        int items = 0, ok = 0, nextPercent = 10;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            items++;
            ok += line.Contains("\"status\":200,", StringComparison.Ordinal) ? 1 : 0;
            if (items * 100 >= nextPercent * records)
            {
                rss.Add((nextPercent, Memory(pid, "VmRSS")));
                nextPercent += 10;
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return new BatchResult(items, ok, seconds, items / seconds, rss);
    }

    /// <summary>A memory figure of a process from /proc (kB).</summary>
    private static long Memory(int pid, string field) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>Resets the process's peak resident set (VmHWM) to its current size (Linux: clear_refs 5).</summary>
    private static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");
}
