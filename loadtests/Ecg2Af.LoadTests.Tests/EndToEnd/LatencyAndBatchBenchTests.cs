using System.Globalization;
using System.Text.RegularExpressions;

namespace Ecg2Af.LoadTests.Tests.EndToEnd;

/// <summary>
/// <c>bench-latency</c> and <c>bench-batch</c> as a user runs them, with tiny settings against the real gateway and
/// worker they start: every phase answered without failures and the report carries the figures docs/benchmarks.md
/// quotes.
/// </summary>
[Collection(EndToEndCollection.Name)]
public partial class LatencyAndBatchBenchTests(SharedModelRepository shared)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task BenchLatency_TinySettings_TrivialRouteBothPathsAndTheTailOfEachRound()
    {
        var output = Directory.CreateTempSubdirectory("ecg2af-bench-latency-").FullName;
        try
        {
            var (exitCode, text) = await ToolProcess.RunAsync(Limit, "bench-latency", "--seconds", "2", "--warmup", "0.5", "--rounds", "2", "--users", "4",
                "--unloaded-requests", "3", "--trivial-requests", "60", "--model-repo", shared.Path, "--out", output);

            Assert.True(exitCode == 0, text);
            var markdown = await File.ReadAllTextAsync(Path.Combine(output, "bench-latency.md"));
            // Both paths of the trivial route: all 60 answered, none failed, a positive median.
            var paths = TrivialRow().Matches(markdown);
            Assert.True(paths.Count == 2, markdown);
            Assert.All(paths, p => Assert.Equal("60 | 0", p.Groups["counts"].Value));
            Assert.All(paths, p => Assert.True(Number(p.Groups["p50"].Value) > 0, markdown));
            Assert.Matches(@"Added by the gateway at the median: \*\*-?[0-9.]+ ms\*\*", markdown);
            // Every round measured saturation, the unloaded latency and the open loop, without failures. (A crowded
            // machine can leave one short saturation phase without an answer inside its window, so: at least one.)
            var rounds = TailRow().Matches(markdown);
            Assert.True(rounds.Count == 2, markdown);
            Assert.Contains(rounds, r => Number(r.Groups["saturation"].Value) > 0);
            Assert.All(rounds, r => Assert.Equal("0", r.Groups["failed"].Value));
            Assert.All(rounds, r => Assert.True(Number(r.Groups["ratio"].Value) > 0, markdown));
            Assert.Matches(@"unloaded p50, median of the rounds: \*\*[0-9.]+\*\*", markdown);
            Assert.Contains("cores", markdown, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task BenchBatch_TinySettings_EveryRecordAnsweredAndTheWorkersMemoryReported()
    {
        var output = Directory.CreateTempSubdirectory("ecg2af-bench-batch-").FullName;
        try
        {
            var (exitCode, text) = await ToolProcess.RunAsync(Limit, "bench-batch", "--records", "12", "--seconds", "1.5", "--warmup", "0.5", "--users", "4",
                "--model-repo", shared.Path, "--out", output);

            Assert.True(exitCode == 0, text);
            var markdown = await File.ReadAllTextAsync(Path.Combine(output, "bench-batch.md"));
            // The batch: 12 records (the sample mix, WFDB pairs and XML files), each answered 200.
            Assert.Contains("| batch | 12 | 12 | 0 |", markdown, StringComparison.Ordinal);
            var singles = SingleRow().Matches(markdown);
            Assert.True(singles.Count == 2, markdown);
            Assert.All(singles, s => Assert.True(long.Parse(s.Groups["ok"].Value, CultureInfo.InvariantCulture) > 0, markdown));
            Assert.All(singles, s => Assert.Equal("0", s.Groups["failed"].Value));
            // VmRSS at every tenth of the answers, and a peak working set read from the worker.
            Assert.Contains("| answered | 10% | 20% | 30% | 40% | 50% | 60% | 70% | 80% | 90% | 100% |", markdown, StringComparison.Ordinal);
            var peak = Regex.Match(markdown, @"during the batch \(VmHWM, reset when it started\) \| \*\*(?<mib>\d+) MiB\*\*");
            Assert.True(peak.Success && long.Parse(peak.Groups["mib"].Value, CultureInfo.InvariantCulture) > 10, markdown);
            Assert.Matches(@"single-record ceiling \(mean of before and after\) \| \*\*[0-9.]+\*\*", markdown);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\| (worker directly|through the gateway \(/_bench/live\)) \| (?<counts>\d+ \| \d+) \| (?<p50>[0-9.]+) \|", RegexOptions.Multiline)]
    private static partial Regex TrivialRow();

    [GeneratedRegex(@"^\| \d+ \| (?<saturation>[0-9.]+) \| [0-9]+ / [0-9]+ \| [0-9.]+ → [0-9.]+ \| [0-9]+ / [0-9]+ / [0-9]+ \| \d+ \| (?<failed>\d+) \| (?<ratio>[0-9.]+) \|", RegexOptions.Multiline)]
    private static partial Regex TailRow();

    [GeneratedRegex(@"^\| single, (before|after) \| \d+ \| (?<ok>\d+) \| (?<failed>\d+) \|", RegexOptions.Multiline)]
    private static partial Regex SingleRow();
}
