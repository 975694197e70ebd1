using Ecg2Af.LoadTests.Reporting;

namespace Ecg2Af.LoadTests.Tests.EndToEnd;

/// <summary>
/// The acceptance command: <c>ecg2af-load --self-host --scenario smoke</c> on this checkout starts the real gateway
/// and workers, prints the report table, writes the report files and exits 0; an unmeetable threshold makes it exit
/// non-zero. This is also the CI smoke run: web-form uploads and OIP binary requests for 15 s (thresholds: no
/// failures, ≥ 25 ok, p99 &lt; 15 s).
/// </summary>
[Collection(EndToEndCollection.Name)]
public class SelfHostSmokeTests(SharedModelRepository models)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task SelfHostSmoke_RealCluster_PrintsTableWritesReportsAndPasses()
    {
        var output = Directory.CreateTempSubdirectory("ecg2af-load-smoke-").FullName;
        try
        {
            var (exitCode, text) = await ToolProcess.RunAsync(Limit, "--self-host", "--scenario", "smoke", "--model-repo", models.Path, "--out", output);

            Assert.True(exitCode == 0, text);
            Assert.Matches(@"(?m)^\s+step\s+ok\s+failed\s+dropped\s+late\s+ok/s\s+min\s+mean\s+max\s+stdev\s+p50\s+p75\s+p95\s+p99\s+p99\.9\s+sent\s+received\s*$", text);
            Assert.Contains("RESULT: all thresholds passed", text, StringComparison.Ordinal);
            var report = JsonReport.Parse(await File.ReadAllTextAsync(Path.Combine(output, "report.json")))!;
            var smoke = report.Scenarios.Single();
            Assert.Equal("smoke", smoke.Name);
            Assert.Equal(0, smoke.Total.Failed);
            Assert.Equal(["web-form", "oip-binary"], smoke.Steps.Select(s => s.Name));
            Assert.All(smoke.Steps, s => Assert.True(s.Ok > 0, $"{s.Name}: {s.Ok} ok"));
            Assert.True(smoke.Total.Ok >= 25, $"{smoke.Total.Ok} ok");
            Assert.Equal(smoke.Total.Ok, smoke.Total.StatusCodes["200"]);
            Assert.All(smoke.Total.Workers.Keys, w => Assert.StartsWith("worker-", w, StringComparison.Ordinal));
            Assert.True(smoke.Total.BytesSent > smoke.Total.Ok * 1000);
            Assert.True(smoke.Total.BytesReceived > smoke.Total.Ok * 500);
            Assert.True(report.Info.SelfHosted);
            Assert.True(File.Exists(Path.Combine(output, "report.md")));
            Assert.Contains("<svg", await File.ReadAllTextAsync(Path.Combine(output, "report.html")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task SelfHost_UnmeetableThreshold_ExitsNonZero()
    {
        var output = Directory.CreateTempSubdirectory("ecg2af-load-fail-").FullName;
        try
        {
            var (exitCode, text) = await ToolProcess.RunAsync(Limit, "--self-host", "--workers", "1", "--scenario", "smoke",
                "--rate", "2", "--duration", "2", "--model-repo", models.Path, "--out", output,
                "--threshold", "p99 < 1us", "--threshold", "fail_ratio <= 0");

            Assert.True(exitCode == 1, text);
            Assert.Contains("FAIL  p99 < 1us", text, StringComparison.Ordinal);
            Assert.Contains("PASS  fail_ratio <= 0", text, StringComparison.Ordinal);
            Assert.Contains("RESULT: thresholds FAILED", text, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "report.html")));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
