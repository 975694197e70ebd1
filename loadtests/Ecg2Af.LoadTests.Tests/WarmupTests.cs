using Ecg2Af.LoadTests.Commands;
using Ecg2Af.LoadTests.Scenarios;

namespace Ecg2Af.LoadTests.Tests;

/// <summary><c>--warmup</c> against a real loopback server: the warm-up load is sent, and none of it is reported.</summary>
public sealed class WarmupTests
{
    [Fact]
    public async Task ExecuteAsync_WithWarmup_WarmupRequestsSentButNotReported()
    {
        await using var server = await TestServer.StartAsync();
        var folder = Path.Combine(Path.GetTempPath(), "ecg2af-warmup-" + Guid.NewGuid().ToString("N"));
        var options = new LoadRunOptions
        {
            Scenarios = ["web-form"],
            Target = server.Url.ToString(),
            Overrides = new LoadOverrides { Rate = 20, Duration = TimeSpan.FromSeconds(1) },
            Warmup = TimeSpan.FromSeconds(1.5),
            Output = folder,
        };
        using var log = new StringWriter();
        try
        {
            var (_, report, _) = await LoadRun.ExecuteAsync(options, log, CancellationToken.None);

            // The measured part is exactly the scenario's load: 20 sends in 1 s, open model.
            var measured = report.Scenarios[0].Total;
            Assert.Equal(20, measured.Scheduled);

            // The server also saw the 30 warm-up sends (and two reads of /metrics around the measured part).
            Assert.Equal(20 + 30 + 2, server.Arrivals.Count);
            Assert.Contains("Warming up web-form", log.ToString(), StringComparison.Ordinal);
            Assert.True(log.ToString().IndexOf("Warming up", StringComparison.Ordinal) < log.ToString().IndexOf("Running web-form", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Validate_NegativeWarmup_Refused() =>
        Assert.Throws<ArgumentException>(() => RunCommand.Validate(new LoadRunOptions { Warmup = TimeSpan.FromSeconds(-1) }));
}
