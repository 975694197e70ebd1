using System.IO.Compression;
using System.Text.Json.Nodes;
using Ecg2Af.Inference.Batch;
using Ecg2Af.LocalCluster;
using Xunit.Abstractions;

namespace Ecg2Af.Cli.Tests;

/// <summary>
/// <c>ecg2af predict</c> as a user runs it: a folder of real samples plus broken files scored locally and through a
/// real gateway with the same rows; globs and zips; a run killed mid-way and resumed without scoring a record twice.
/// </summary>
public sealed class PredictCommandTests(CliFixture fixture, ITestOutputHelper output) : IClassFixture<CliFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Predict_SamplesAndBrokenFiles_LocalAndThroughTheGatewayWriteTheSameRowPerRecord()
    {
        var work = fixture.Scratch();
        var input = Path.Combine(work, "in");
        CopySamples(input);
        File.WriteAllText(Path.Combine(input, "notes.txt"), "Shopping list: milk, eggs, bread.\n");
        File.WriteAllBytes(Path.Combine(input, "empty.csv"), []);

        var local = await CliProcess.RunAsync(work, Limit, "predict", "in", "--models", fixture.Models, "--out", "local.jsonl");
        output.WriteLine(local.Stderr);

        // The operator's key workflow: create a key, configure the services with the printed lines, hand out the key.
        var created = await CliProcess.RunAsync(work, Limit, "keys", "create", "--id", "cli-batch", "--scopes", "predict");
        Assert.Equal(0, created.ExitCode);
        var key = created.Stdout.Trim();
        Assert.StartsWith("e2a_", key, StringComparison.Ordinal);
        Assert.Contains(Ecg2Af.Security.ApiKeyHash.Of(key), created.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(key, created.Stderr, StringComparison.Ordinal); // the key is printed once, on stdout
        var keySettings = created.Stderr.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("Security__", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(3, keySettings.Count);
        await using var cluster = await fixture.StartClusterAsync(work, keySettings);
        var keyless = await CliProcess.RunAsync(work, Limit, "predict", "in", "--url", cluster.GatewayUrl.ToString(), "--name", "Cli Tester",
            "--email", "cli@example.org", "--api-key", "e2a_not-a-configured-key", "--out", "keyless.jsonl");
        Assert.NotEqual(0, keyless.ExitCode);
        var remote = await CliProcess.RunAsync(work, Limit, "predict", "in", "--url", cluster.GatewayUrl.ToString(), "--name", "Cli Tester",
            "--email", "cli@example.org", "--api-key", key, "--batch-size", "5", "--out", "remote.jsonl");
        output.WriteLine(remote.Stderr);

        Assert.Equal(1, local.ExitCode); // some records failed
        Assert.Equal(1, remote.ExitCode);
        var localItems = Lines(Path.Combine(work, "local.jsonl"));
        var remoteItems = Lines(Path.Combine(work, "remote.jsonl"));
        Assert.Equal(21, localItems.Count); // 19 sample records + 2 broken files
        Assert.Equal(localItems.Select(i => (string)i["record"]!), remoteItems.Select(i => (string)i["record"]!));
        for (var k = 0; k < localItems.Count; k++)
        {
            Assert.True(JsonNode.DeepEquals(WithoutRunFacts(localItems[k]), WithoutRunFacts(remoteItems[k])),
                $"local {localItems[k].ToJsonString()[..200]} vs remote {remoteItems[k].ToJsonString()[..200]}");
        }

        Assert.Contains(localItems, i => (string)i["record"]! == "in/wfdb/muse-af" && (int)i["status"]! == 200
            && i["files"]!.AsArray().Select(f => (string)f!["name"]!).SequenceEqual(["in/wfdb/muse-af.hea", "in/wfdb/muse-af.dat"]));
        Assert.Equal(415, (int)localItems.Single(i => (string)i["record"]! == "in/notes")["status"]!);
        var failed = localItems.Count(i => (int)i["status"]! != 200);
        Assert.Contains($"{localItems.Count - failed} ok, {failed} failed", local.Stderr, StringComparison.Ordinal);
        Assert.Contains("Failures by reason:", local.Stderr, StringComparison.Ordinal);
        Assert.Contains("415 Unsupported ECG format: 1", local.Stderr, StringComparison.Ordinal); // notes.txt (SCP-ECG and Philips XML are read)
    }

    [Fact]
    public async Task Predict_GlobAndZip_RecordsNamedByTheirPaths()
    {
        var work = fixture.Scratch();
        var input = Path.Combine(work, "in");
        CopySamples(input);
        using (var zip = ZipFile.Open(Path.Combine(work, "wfdb.zip"), ZipArchiveMode.Create))
        {
            foreach (var file in Directory.GetFiles(Path.Combine(input, "wfdb"), "muse-*").Order(StringComparer.Ordinal))
            {
                zip.CreateEntryFromFile(file, "set/" + Path.GetFileName(file));
            }
        }

        var run = await CliProcess.RunAsync(work, Limit, "predict", "in/**/*.xml", "wfdb.zip", "--models", fixture.Models, "--out", "out.csv");
        output.WriteLine(run.Stderr);

        Assert.Equal(0, run.ExitCode);
        var rows = File.ReadAllLines(Path.Combine(work, "out.csv"));
        Assert.Equal(BatchCsv.Header, rows[0]);
        // Every XML sample the glob matches (the shared samples grow: read them rather than list them), then the zip's records.
        var xml = Directory.GetFiles(input, "*.xml", SearchOption.AllDirectories)
            .Select(f => "in/" + Path.ChangeExtension(Path.GetRelativePath(input, f), null).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(
            [.. xml, "wfdb.zip/set/muse-af", "wfdb.zip/set/muse-sinus"],
            rows.Skip(1).Select(r => BatchCsv.Split(r)[0]));
        Assert.All(rows.Skip(1), r => Assert.Equal("200", BatchCsv.Split(r)[2]));
    }

    [Fact]
    public async Task Predict_KilledMidRunThenResumed_FinishesWithEveryRecordOnceAndNoneScoredTwice()
    {
        const int count = 60;
        var work = fixture.Scratch();
        var names = SampleRecords.Generate(Path.Combine(work, "in"), count).Select(n => "in/" + n).ToList();
        var outFile = Path.Combine(work, "out.csv");

        // First run: killed (no clean-up) once some rows are written.
        using (var first = CliProcess.Start(work, "predict", "in", "--models", fixture.Models, "--out", "out.csv", "--batch-size", "2"))
        {
            var deadline = DateTime.UtcNow + Limit;
            while (CompleteRows(outFile).Count < 8)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no progress: {first.Stderr}");
                await Task.Delay(50);
            }

            first.Kill();
        }

        var done = CompleteRows(outFile);
        Assert.InRange(done.Count, 8, count - 1);
        Assert.Equal(done.Count, done.Distinct().Count());

        var second = await CliProcess.RunAsync(work, Limit, "predict", "in", "--models", fixture.Models, "--out", "out.csv", "--resume");
        output.WriteLine($"killed after {done.Count} rows; resumed: {second.Stderr}");

        Assert.Equal(0, second.ExitCode);
        Assert.Contains($"{done.Count} already in out.csv, {count - done.Count} to score.", second.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Scored {count - done.Count} record(s)", second.Stderr, StringComparison.Ordinal);
        var rows = File.ReadAllLines(outFile);
        Assert.Equal(BatchCsv.Header, rows[0]);
        var records = rows.Skip(1).Select(r => BatchCsv.Split(r)[0]).ToList();
        Assert.Equal(count, records.Count); // nothing scored twice, nothing missing
        Assert.Equal(names.Order(), records.Order());
        Assert.Equal(done, records.Take(done.Count)); // the first run's rows kept as they were
        Assert.All(rows.Skip(1), r => Assert.Equal("200", BatchCsv.Split(r)[2]));
    }

    /// <summary>The records of the complete rows of a CSV output (a torn last line does not count).</summary>
    private static List<string> CompleteRows(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = new StreamReader(stream).ReadToEnd();
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => BatchCsv.Split(l.TrimEnd('\r'))[0]).ToList();
    }

    private static List<JsonNode> Lines(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToList();

    private static void CopySamples(string target)
    {
        var root = RepositoryLayout.SharedFile("ecg-samples");
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "MANIFEST.md"))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    /// <summary>An item without what differs from run to run: ids and timings.</summary>
    private static JsonNode WithoutRunFacts(JsonNode item)
    {
        var copy = JsonNode.Parse(item.ToJsonString())!.AsObject();
        copy.Remove("id");
        if (copy["prediction"] is JsonObject prediction)
        {
            prediction.Remove("id");
            prediction.Remove("timing_ms");
        }

        return copy;
    }
}
