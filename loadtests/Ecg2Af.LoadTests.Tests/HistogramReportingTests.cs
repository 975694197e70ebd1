using System.Diagnostics;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Reporting;

namespace Ecg2Af.LoadTests.Tests;

public class HistogramReportingTests
{
    private static long Ticks(double ms) => (long)(ms / 1000.0 * Stopwatch.Frequency);

    [Fact]
    public void From_OneToThousandMs_PercentilesWithinHistogramResolution()
    {
        var recorder = new StepRecorder("s");
        for (var ms = 1; ms <= 1000; ms++)
        {
            recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(ms), 10, 20, "w"));
        }

        var stats = StepReport.From(recorder, TimeSpan.FromSeconds(10)).Latency;

        Assert.Equal(1000, stats.Count);
        Assert.Equal(1, stats.MinMs, 1);
        Assert.Equal(1000, stats.MaxMs, 1);
        Assert.InRange(stats.MeanMs, 499.5, 501.5);
        Assert.InRange(stats.StdDevMs, 287.5, 290);
        Assert.InRange(stats.P50Ms, 499.5, 501);
        Assert.InRange(stats.P75Ms, 749, 751);
        Assert.InRange(stats.P95Ms, 949, 951);
        Assert.InRange(stats.P99Ms, 989, 991);
        Assert.InRange(stats.P999Ms, 998.5, 1001);
    }

    [Fact]
    public void Record_LateSend_LatencyCountsFromTheScheduleServiceTimeFromTheSend()
    {
        var recorder = new StepRecorder("s");
        // Scheduled at 0, left 500 ms late (the generator or the client pool was held up), answered 100 ms later.
        recorder.Record(new Outcome(true, 200, null, 0, Ticks(500), Ticks(600), 0, 0, null));

        var report = StepReport.From(recorder, TimeSpan.FromSeconds(1));

        Assert.InRange(report.Latency.P50Ms, 599, 601);
        Assert.InRange(report.ServiceTime.P50Ms, 99.9, 100.1);
    }

    [Fact]
    public void From_MixedOutcomes_CountsRatesStatusesWorkersAndBytes()
    {
        var total = new StepRecorder("all");
        var recorder = new StepRecorder("s", total);
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(10), 100, 1000, "worker-0"));
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(20), 100, 1000, "worker-1"));
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(30), 100, 1000, "worker-1"));
        recorder.Record(new Outcome(false, 503, null, 0, 0, Ticks(5), 100, 50, "worker-0"));
        recorder.Record(new Outcome(false, 0, "timeout", 0, 0, Ticks(5000), 100, 0, null));
        recorder.RecordDropped();
        recorder.RecordLate();

        var report = StepReport.From(recorder, TimeSpan.FromSeconds(2));

        Assert.Equal(6, report.Scheduled);
        Assert.Equal(5, report.Requests);
        Assert.Equal(3, report.Ok);
        Assert.Equal(2, report.Failed);
        Assert.Equal(1, report.Dropped);
        Assert.Equal(1, report.Late);
        Assert.Equal(1.5, report.OkPerSecond, 9);
        Assert.Equal(0.4, report.FailRatio, 9);
        Assert.Equal(new Dictionary<string, long> { ["200"] = 3, ["503"] = 1, ["timeout"] = 1 }, report.StatusCodes);
        Assert.Equal(new Dictionary<string, long> { ["worker-0"] = 2, ["worker-1"] = 2 }, report.Workers);
        Assert.Equal(500, report.BytesSent);
        Assert.Equal(3050, report.BytesReceived);
        Assert.Equal(30, report.Latency.MaxMs, 1);
        Assert.InRange(report.FailedLatency.MaxMs, 4990, 5010);

        var all = StepReport.From(total, TimeSpan.FromSeconds(2));
        Assert.Equal((report.Scheduled, report.Ok, report.Failed, report.Dropped, report.Late, report.BytesSent, report.BytesReceived),
            (all.Scheduled, all.Ok, all.Failed, all.Dropped, all.Late, all.BytesSent, all.BytesReceived));
        Assert.Equal(report.StatusCodes, all.StatusCodes);
        Assert.Equal(report.Latency, all.Latency);
    }

    [Fact]
    public void From_WindowEnd_RateCountsOnlyAnswersInsideTheWindow()
    {
        var recorder = new StepRecorder("s");
        recorder.SetWindowEnd(Ticks(4000));
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(10), 0, 0, null));
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(3999), 0, 0, null));
        // An answer that came after the window closed: counted, but not in the rate.
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(4001), 0, 0, null));

        var report = StepReport.From(recorder, TimeSpan.FromSeconds(4));

        Assert.Equal(3, report.Ok);
        Assert.Equal(0.5, report.OkPerSecond, 9);
        Assert.Equal(0.5, report.RequestsPerSecond, 9);
    }

    [Fact]
    public void Sample_Intervals_EachPointHoldsOnlyItsOwnInterval()
    {
        var recorder = new StepRecorder("s");
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(100), 0, 0, null));
        recorder.Record(new Outcome(true, 200, null, 0, 0, Ticks(300), 0, 0, null));
        var first = recorder.Sample(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        recorder.Record(new Outcome(false, 500, null, 0, 0, Ticks(50), 0, 0, null));
        recorder.RecordDropped();
        var second = recorder.Sample(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));

        Assert.Equal(2, first.Ok);
        Assert.Equal(2, first.OkPerSecond, 9);
        Assert.InRange(first.MaxMs, 299, 301);
        Assert.Equal(0, second.Ok);
        Assert.Equal(1, second.Failed);
        Assert.Equal(1, second.Dropped);
        Assert.Equal([first, second], recorder.Timeline);
    }
}
