using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>
/// <c>ecg2af-load bench-batch</c> (docs/benchmarks.md, "Batch"): one worker; its single-record ceiling (closed-loop
/// <c>POST /api/v1/predictions</c>) before and after one <c>POST /api/v1/predictions:batch</c> of many records made
/// from the shared samples; the batch's throughput against that ceiling, and the worker's memory through the batch
/// (VmRSS at every tenth of the answers, the peak VmHWM reset when the batch starts).
/// </summary>
internal static class BatchBenchCommand
{
    public static Command Create()
    {
        var records = new Option<int>("--records") { Description = "Records in the one batch request.", DefaultValueFactory = _ => 2000 };
        var seconds = new Option<double>("--seconds") { Description = "Seconds of each single-record phase.", DefaultValueFactory = _ => 30 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of unmeasured load before each single-record phase.", DefaultValueFactory = _ => 5 };
        var users = new Option<int>("--users") { Description = "Closed-loop users of the single-record phases (2 × the worker's max batch lets it fill batches).", DefaultValueFactory = _ => 32 };
        var common = new BenchOptions("bench-batch.md");
        var command = new Command("bench-batch", "Measure one batch request of many records against the worker's single-record ceiling, and the worker's memory, in one self-hosted run.")
        {
            records, seconds, warmup, users,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new BatchBenchSettings(
                parse.GetValue(records), TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeSpan.FromSeconds(parse.GetValue(warmup)), parse.GetValue(users),
                parse.GetValue(common.ModelRepository), common.WorkerSettings(parse));
            if (settings.Records < 1 || settings.Phase <= TimeSpan.Zero || settings.Warmup < TimeSpan.Zero || settings.Users < 1)
            {
                Console.Error.WriteLine("--records, --seconds and --users must be positive, --warmup not negative.");
                return LoadRun.UsageError;
            }

            await common.PrintAsync(parse, await BatchBench.ExecuteAsync(settings, Console.Out, cancellationToken), cancellationToken);
            return 0;
        });
        return command;
    }
}

internal sealed record BatchBenchSettings(int Records, TimeSpan Phase, TimeSpan Warmup, int Users, string? ModelRepository, IReadOnlyDictionary<string, string> WorkerSettings);

/// <summary>What the batch request gave: answers, those with status 200, seconds from the first byte sent to the last answer read, VmRSS by tenth answered.</summary>
internal sealed record BatchResult(int Items, int Ok, double Seconds, IReadOnlyList<(int Percent, long Kb)> Rss)
{
    public double PerSecond => Items / Math.Max(Seconds, 1e-9);
}

internal static class BatchBench
{
    /// <summary>Records the single-record phases post in turn (the same format mix as the batch).</summary>
    private const int SinglePool = 60;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Task<string> ExecuteAsync(BatchBenchSettings settings, TextWriter log, CancellationToken cancellationToken) =>
        BenchOptions.WithModelRepositoryAsync(settings.ModelRepository, async repository =>
        {
            var folder = Directory.CreateTempSubdirectory("ecg2af-bench-batch-").FullName;
            try
            {
                var names = SampleRecords.Generate(folder, settings.Records);
                IEnumerable<string[]> Files(IEnumerable<string> records) => records.Select(name =>
                    Directory.GetFiles(folder, name + ".*").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
                var all = Payloads.Load(folder, Files(names));
                var singles = Payloads.Load(folder, Files(names.Take(SinglePool)));
                var files = all.Records.Sum(r => r.Files.Count);
                var bytes = all.Records.Sum(r => r.Files.Sum(f => (long)f.Bytes.Length));
                var worker = new Dictionary<string, string>
                {
                    ["Serving__QueueCapacity__Routine"] = "100000",
                    ["Serving__DefaultTimeout"] = "00:10:00",
                    ["Batch__MaxRecords"] = settings.Records.ToString(C),
                    ["Batch__MaxFiles"] = (2 * settings.Records).ToString(C),
                    ["Batch__MaxRequestBytes"] = (bytes + (64L << 20)).ToString(C),
                };
                foreach (var (key, value) in settings.WorkerSettings)
                {
                    worker[key] = value;
                }

                var md = BenchOptions.Header("Batch benchmark", settings.WorkerSettings);
                md.AppendLine(C, $"- One worker ({RepositoryLayout.Configuration} build, worker defaults unless set above), called directly; Batch:MaxRecords {settings.Records}, Batch:MaxFiles {2 * settings.Records}");
                md.AppendLine(C, $"- Records: {names.Count} made from ../shared/ecg-samples (SampleRecords: 4 WFDB records renamed, 2 XML files copied, in turn), {files} files, {bytes / 1048576.0:0.0} MiB");
                await using var cluster = await SelfHost.StartAsync(1, repository, worker, new Dictionary<string, string>(), cancellationToken);
                var pid = cluster.Worker(0).ProcessId;
                var target = cluster.WorkerUrls[0];
                var bounds = new RunBounds { MaxDuration = settings.Warmup + settings.Phase + TimeSpan.FromMinutes(2), RequestTimeout = TimeSpan.FromMinutes(1) };
                using var pool = new ClientPool(1, TimeSpan.FromMinutes(30), connectionsPerClient: settings.Users, SelfHost.Key.Key);
                var runner = new ScenarioRunner(pool, bounds);
                var single = new StepDefinition("single", 1, Requests.WebForm(target, singles));

                log.WriteLine("single records, before the batch...");
                var (before, beforeCpu) = await BenchRun.MeasureClosedAsync(runner, single, settings.Users, settings.Warmup, settings.Phase, [pid], cancellationToken);
                var peakSingles = ProcessMemory.Kb(pid, "VmHWM");
                ProcessMemory.ResetPeak(pid);
                var rssStart = ProcessMemory.Kb(pid, "VmRSS");
                log.WriteLine(string.Create(C, $"one batch of {names.Count} records..."));
                var batch = await SendBatchAsync(pool[0], Requests.Batch(target, all, all.Records.Count)(new RequestContext(0, 0)), pid, names.Count, cancellationToken);
                var peakBatch = ProcessMemory.Kb(pid, "VmHWM");
                log.WriteLine("single records, after the batch...");
                var (after, afterCpu) = await BenchRun.MeasureClosedAsync(runner, single, settings.Users, settings.Warmup, settings.Phase, [pid], cancellationToken);
                var ceiling = (before.OkPerSecond + after.OkPerSecond) / 2;

                md.AppendLine();
                md.AppendLine(C, $"Single-record ceiling: {settings.Users} closed-loop users posting one record each (POST /api/v1/predictions, {singles.Records.Count} of the records in turn), {settings.Phase.TotalSeconds:0.#} s after {settings.Warmup.TotalSeconds:0.#} s, before and after the batch. Batch: all {names.Count} records in one POST /api/v1/predictions:batch (NDJSON answers), from the first byte sent to the last answer read.");
                md.AppendLine();
                md.AppendLine("| phase | records | ok | failed | seconds | records/s | worker CPU ms per record |");
                md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
                string Single(string name, StepReport s, TimeSpan cpu) =>
                    string.Create(C, $"| {name} | {s.Requests} | {s.Ok} | {s.Failed} | {settings.Phase.TotalSeconds:0.0} | {s.OkPerSecond:0.00} | {cpu.TotalMilliseconds / Math.Max(1, s.Ok):0.0} |");
                md.AppendLine(Single("single, before", before, beforeCpu[0]));
                md.AppendLine(C, $"| batch | {batch.Items} | {batch.Ok} | {batch.Items - batch.Ok} | {batch.Seconds:0.0} | {batch.PerSecond:0.00} | |");
                md.AppendLine(Single("single, after", after, afterCpu[0]));
                md.AppendLine();
                md.AppendLine("Worker memory through the batch (VmRSS when the given share of the answers had arrived):");
                md.AppendLine();
                md.AppendLine("| answered | " + string.Join(" | ", batch.Rss.Select(r => $"{r.Percent}%")) + " |");
                md.AppendLine("|---|" + string.Concat(batch.Rss.Select(_ => "---:|")));
                md.AppendLine("| VmRSS MiB | " + string.Join(" | ", batch.Rss.Select(r => (r.Kb / 1024).ToString(C))) + " |");
                md.AppendLine();
                md.AppendLine("| figure | measured | goal |");
                md.AppendLine("|---|---:|---:|");
                md.AppendLine(C, $"| batch throughput ÷ single-record ceiling (mean of before and after) | **{batch.PerSecond / Math.Max(ceiling, 1e-9):0.00}** | ≥ 0.90 |");
                md.AppendLine(C, $"| worker peak working set during the batch (VmHWM, reset when it started) | **{peakBatch / 1024} MiB** | flat |");
                md.AppendLine(C, $"| worker VmRSS when the batch started → peak during it | {rssStart / 1024} → {peakBatch / 1024} MiB | |");
                md.AppendLine(C, $"| worker peak working set during the first single-record phase (VmHWM) | {peakSingles / 1024} MiB | |");
                md.AppendLine();
                md.AppendLine(C, $"Load average at the end {MachineInfo.LoadAverage()}.");
                return md.ToString();
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        });

    /// <summary>Sends the batch and reads its NDJSON answers as they stream back, reading the worker's VmRSS at every tenth of them.</summary>
    private static async Task<BatchResult> SendBatchAsync(HttpClient client, HttpRequestMessage request, int pid, int records, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using (request)
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            var rss = new List<(int, long)>();
            int items = 0, ok = 0, nextPercent = 10;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                items++;
                using (var item = JsonDocument.Parse(line))
                {
                    ok += item.RootElement.GetProperty("status").GetInt32() == 200 ? 1 : 0;
                }

                for (; items * 100 >= nextPercent * records && nextPercent <= 100; nextPercent += 10)
                {
                    rss.Add((nextPercent, ProcessMemory.Kb(pid, "VmRSS")));
                }
            }

            return new BatchResult(items, ok, clock.Elapsed.TotalSeconds, rss);
        }
    }
}
