using Ecg2Af.LoadTests.Commands;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Tests;

/// <summary><c>compare</c> against two real loopback servers, one slower than the other by a known service time.</summary>
public sealed class CompareTests
{
    [Fact]
    public async Task RunAsync_SlowerTargetB_SameUploadToBoth_RatiosShowB()
    {
        await using var a = await TestServer.StartAsync();
        await using var b = await TestServer.StartAsync();
        var settings = new CompareSettings(
            new Uri(a.Url, "/upload/20"), new Uri(b.Url, "/upload/200"), Users: 2, Duration: TimeSpan.FromSeconds(1.5), Rounds: 2,
            [Payloads.TensorSource], "ecg", new Dictionary<string, string> { ["name"] = "Compare Test" },
            Path.Combine(RepositoryLayout.Shared, "ecg-samples"), ApiKey: null);
        using var log = new StringWriter();

        var result = await Compare.RunAsync(settings, log, CancellationToken.None);

        // A B B A: two turns each, in that order in the log.
        Assert.Equal(2, result.A.Count);
        Assert.Equal(2, result.B.Count);
        var order = string.Concat(log.ToString().Split('\n').Where(l => l.StartsWith("round", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]));
        Assert.Equal("ABBA", order);
        Assert.True(result.Clean);

        // Both got the same upload: the real ECG file under "ecg" and the form field.
        var length = new FileInfo(Path.Combine(settings.SamplesFolder, Payloads.TensorSource)).Length;
        var expected = $"{Path.GetFileName(Payloads.TensorSource)}:{length} name=Compare Test";
        Assert.All(a.Uploads.Concat(b.Uploads), u => Assert.Equal(expected, u));

        // B takes 10x the service time: far less throughput, far more latency (loose bounds: the machine is shared).
        Assert.True(result.ThroughputRatio < 0.6, $"throughput B/A {result.ThroughputRatio}");
        Assert.True(result.P50Ratio > 1.5, $"p50 B/A {result.P50Ratio}");

        // No request to B can finish in under its 200 ms service time, so neither can B's p99. A's p99 rests on its two
        // slowest of ~150 requests, which one scheduler stall on a busy machine can lift past B's, so the p99 ratio is
        // checked as what it is said to be: the mean of B's turns over the mean of A's.
        Assert.All(result.B, t => Assert.True(t.Latency.P99Ms >= 200, $"B p99 {t.Latency.P99Ms} ms"));
        Assert.Equal(result.B.Average(t => t.Latency.P99Ms) / result.A.Average(t => t.Latency.P99Ms), result.P99Ratio, 9);
        Assert.Contains("B ÷ A", Compare.Render(result, settings), StringComparison.Ordinal);
    }
}
