using System.Diagnostics;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Tests;

public class ThresholdTests
{
    private static ScenarioReport Report(int ok = 100, int failed = 0, double latencyMs = 50)
    {
        var total = new StepRecorder("all");
        var routine = new StepRecorder("routine", total);
        var stat = new StepRecorder("stat", total);
        var ticks = (long)(latencyMs / 1000 * Stopwatch.Frequency);
        for (var i = 0; i < ok; i++)
        {
            (i % 10 == 0 ? stat : routine).Record(new Outcome(true, 200, null, 0, 0, ticks, 0, 0, $"worker-{i % 3}"));
        }

        for (var i = 0; i < failed; i++)
        {
            routine.Record(new Outcome(false, 503, null, 0, 0, ticks, 0, 0, "worker-0"));
        }

        var elapsed = TimeSpan.FromSeconds(10);
        return new ScenarioReport("s", "", "", 10, false, [StepReport.From(routine, elapsed), StepReport.From(stat, elapsed)], StepReport.From(total, elapsed), null, []);
    }

    [Theory]
    [InlineData("p99 < 1us", false)]
    [InlineData("p99 < 60s", true)]
    [InlineData("p50 <= 50.1ms", true)]
    [InlineData("p99.9 < 0.04s", false)]
    [InlineData("fail_ratio <= 0", true)]
    [InlineData("ok >= 100", true)]
    [InlineData("ok > 100", false)]
    [InlineData("rps >= 10", true)]
    [InlineData("rps >= 10.5", false)]
    [InlineData("workers >= 3", true)]
    [InlineData("workers >= 4", false)]
    [InlineData("stat:ok == 10", true)]
    [InlineData("routine:p95 < 1ms", false)]
    public void Evaluate_AgainstKnownReport_PassesOrFailsDeterministically(string text, bool passes)
    {
        var result = Threshold.Parse(text).Evaluate(Report());

        Assert.Equal(passes, result.Passed);
        Assert.NotNull(result.Actual);
    }

    [Fact]
    public void Evaluate_FailuresPresent_FailRatioAndWorkerShare()
    {
        var report = Report(ok: 90, failed: 10);

        var ratio = Threshold.Parse("fail_ratio <= 0.05").Evaluate(report);
        Assert.False(ratio.Passed);
        Assert.Equal(0.1, ratio.Actual!.Value, 9);
        var share = Threshold.Parse("worker_share_min >= 0.25").Evaluate(report);
        Assert.True(share.Passed);
    }

    [Fact]
    public void Evaluate_LatencyWithNoOkRequests_FailsWithANote()
    {
        var result = Threshold.Parse("p99 < 10s").Evaluate(Report(ok: 0, failed: 5));

        Assert.False(result.Passed);
        Assert.Null(result.Actual);
        Assert.Contains("no ok requests", result.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_Destinations_FromTheGatewaysMetrics()
    {
        var report = Report();
        var withGateway = report with
        {
            Gateway = new GatewayDestinations("m", new Dictionary<string, double> { ["worker-0"] = 5, ["worker-1"] = 4, ["worker-2"] = 1 }, null),
        };

        Assert.True(Threshold.Parse("destinations >= 3").Evaluate(withGateway).Passed);
        Assert.False(Threshold.Parse("destinations >= 4").Evaluate(withGateway).Passed);
        var unread = Threshold.Parse("destinations >= 1").Evaluate(report);
        Assert.False(unread.Passed);
        Assert.Contains("could not be read", unread.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_UnknownStep_Fails()
    {
        var result = Threshold.Parse("urgent:p99 < 10s").Evaluate(Report());

        Assert.False(result.Passed);
        Assert.Contains("urgent", result.Note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("p99 2s")]
    [InlineData("latency < 2s")]
    [InlineData("ok >= 5ms")]
    [InlineData("p99 < 2h")]
    [InlineData("")]
    public void Parse_Malformed_SaysWhatIsWrong(string text)
    {
        var error = Assert.Throws<FormatException>(() => Threshold.Parse(text));
        Assert.Contains("Threshold", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Units_ConvertedToMilliseconds()
    {
        Assert.Equal(2000, Threshold.Parse("p99 < 2s").Value);
        Assert.Equal(0.5, Threshold.Parse("p50 < 500us").Value);
        Assert.Equal(750, Threshold.Parse("mean<750").Value);
        Assert.Equal("stat", Threshold.Parse("stat : p95 < 1s").Step);
    }
}
