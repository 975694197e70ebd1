using System.Collections.Concurrent;
using System.Diagnostics;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Tests.Serving;

/// <summary>
/// The batcher's spans: one batch serves requests of different traces, so each request gets its own
/// <c>queue_wait</c> and <c>inference</c> spans under its own caller's span, the inference spans sharing the run's
/// times and batch size.
/// </summary>
public sealed class SchedulerTracingTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SubmitAsync_TwoTracesShareOneBatch_EachTraceGetsItsOwnQueueWaitAndInferenceSpans()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == InferenceTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        using var target = new GatedTarget(fixture.Version);
        using var scheduler = new InferenceScheduler(new SchedulerOptions { MaxBatchSize = 4 });
        scheduler.Start();
        target.Close();
        var blocker = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));

        // Two callers, each in its own trace, queue behind the running batch and so share the next one.
        var callers = new List<(ActivityTraceId Trace, ActivitySpanId Span, Task<InferenceResult> Result)>();
        foreach (var tag in new[] { 2, 3 })
        {
            using var caller = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();
            callers.Add((caller.TraceId, caller.SpanId, Submit(scheduler, target, tag)));
        }

        target.Open();
        await blocker;
        foreach (var (_, _, result) in callers)
        {
            Assert.Equal(2, (await result).BatchSize);
        }

        var runs = new List<Activity>();
        foreach (var (trace, span, _) in callers)
        {
            var spans = stopped.Where(a => a.TraceId == trace).ToList();
            Assert.Equal(["inference", "queue_wait"], spans.Select(a => a.OperationName).Order());
            Assert.All(spans, a => Assert.Equal(span, a.ParentSpanId));
            var wait = spans.Single(a => a.OperationName == "queue_wait");
            var run = spans.Single(a => a.OperationName == "inference");
            Assert.True(wait.Duration > TimeSpan.Zero && wait.StartTimeUtc + wait.Duration <= run.StartTimeUtc + TimeSpan.FromMilliseconds(1));
            Assert.Equal(2, run.GetTagItem("ecg2af.batch_size"));
            Assert.Equal("tiny", run.GetTagItem("ecg2af.model"));
            runs.Add(run);
        }

        Assert.Equal(runs[0].StartTimeUtc, runs[1].StartTimeUtc);
        Assert.Equal(runs[0].Duration, runs[1].Duration);
    }

    private static Task<InferenceResult> Submit(InferenceScheduler scheduler, IInferenceTarget target, int tag)
    {
        var input = TensorPool.Shared.Rent(target.InputLength);
        TinyModels.Input(tag, target.InputLength).CopyTo(input.Span);
        return scheduler.SubmitAsync(new InferenceRequest(target, input, 1, Priority.Routine, InferenceRequest.DeadlineIn(Wait)));
    }
}
