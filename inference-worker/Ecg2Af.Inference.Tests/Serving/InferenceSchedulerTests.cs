using System.Collections.Concurrent;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Tests.Serving;

/// <summary>A tiny model version loaded once for the scheduler tests.</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ecg2af-scheduler-").FullName;

    public TinyModelFixture()
    {
        var directory = TinyModels.Write(_root, "tiny", "1");
        Version = ServedVersion.Load(directory, "tiny", "1",
            new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 }, sessions: 2);
    }

    internal ServedVersion Version { get; }

    public void Dispose()
    {
        Version.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}

public sealed class InferenceSchedulerTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SubmitAsync_StatArrivesBehindBatchBacklog_ComputedBeforeTheBacklog()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1 });
        target.Close();
        var blocker = Submit(scheduler, target, tag: 1, Priority.Batch);
        Assert.True(await target.WaitForRunAsync(Wait));

        var backlog = Enumerable.Range(10, 4).Select(tag => Submit(scheduler, target, tag, Priority.Batch)).ToList();
        var routine = Submit(scheduler, target, tag: 20, Priority.Routine);
        var stat = Submit(scheduler, target, tag: 30, Priority.Stat);
        Assert.Equal(4, scheduler.QueuedItems(Priority.Batch));
        target.Open();
        await Task.WhenAll([blocker, stat, routine, .. backlog]);

        var order = target.Runs.Select(r => Assert.Single(r.Tags)).ToArray();
        Assert.Equal([1, 30, 20, 10, 11, 12, 13], order);
    }

    [Fact]
    public async Task SubmitAsync_FloodBeyondLaneBound_RefusedWithRetryAfterWhileAdmittedComplete()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1, QueueCapacity = new LaneCapacities { Routine = 2 } });
        target.Close();
        var running = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));

        var flood = Enumerable.Range(2, 8).Select(tag => Submit(scheduler, target, tag)).ToList();
        var refused = flood.Where(t => t.IsFaulted).ToList();
        Assert.Equal(6, refused.Count);
        foreach (var task in refused)
        {
            var e = Assert.IsType<InferenceRejectedException>(task.Exception!.InnerException);
            Assert.Equal(RejectionReason.QueueFull, e.Reason);
            Assert.True(e.RetryAfter >= TimeSpan.FromSeconds(1));
        }

        // A stat request still has room in its own lane.
        var stat = Submit(scheduler, target, tag: 50, Priority.Stat);
        target.Open();
        var admitted = await Task.WhenAll([running, stat, .. flood.Where(t => !t.IsFaulted)]);
        Assert.Equal(4, admitted.Length);
        Assert.All(admitted, r => Assert.Equal(4, r.Outputs.Length));
        Assert.Equal(4, target.ComputedItems);
    }

    [Fact]
    public async Task SubmitAsync_DeadlinePassesWhileQueued_NeverComputed()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1, ShedUnreachableDeadlines = false });
        target.Close();
        var running = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));

        var expiring = Submit(scheduler, target, tag: 2, deadline: TimeSpan.FromMilliseconds(100));
        var patient = Submit(scheduler, target, tag: 3);

        // The answer comes at the deadline, while the only loop is still busy.
        var e = await Assert.ThrowsAsync<InferenceRejectedException>(() => expiring.WaitAsync(Wait));
        Assert.Equal(RejectionReason.DeadlineExceeded, e.Reason);
        Assert.Equal(1, scheduler.QueuedItems(Priority.Routine));
        target.Open();
        await running;
        await patient;
        Assert.Equal([1, 3], target.Runs.SelectMany(r => r.Tags));
    }

    [Fact]
    public async Task SubmitAsync_DeadlineAlreadyPassed_RefusedWithoutQueueing()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions());
        var e = await Assert.ThrowsAsync<InferenceRejectedException>(() => Submit(scheduler, target, tag: 1, deadline: TimeSpan.Zero));
        Assert.Equal(RejectionReason.DeadlineExceeded, e.Reason);
        Assert.Equal(0, target.ComputedItems);
    }

    [Fact]
    public async Task SubmitAsync_WorkAheadOutlastsDeadline_RefusedAtAdmission()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1 });

        // Teach the scheduler that an item takes about half a second (the gate is part of the measured run).
        target.Close();
        var slow = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        target.Open();
        await slow;

        target.Close();
        var running = Submit(scheduler, target, tag: 2);
        Assert.True(await target.WaitForRunAsync(Wait));
        var hopeless = Submit(scheduler, target, tag: 3, deadline: TimeSpan.FromMilliseconds(200));
        Assert.True(hopeless.IsFaulted);
        Assert.Equal(RejectionReason.DeadlineUnreachable, Assert.IsType<InferenceRejectedException>(hopeless.Exception!.InnerException).Reason);
        Assert.Equal(0, scheduler.QueuedItems(Priority.Routine));
        target.Open();
        await running;
        Assert.Equal([1, 2], target.Runs.SelectMany(r => r.Tags));
    }

    [Fact]
    public async Task SubmitAsync_ClientCancelsWhileQueued_LeavesQueueAndIsNeverComputed()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1 });
        target.Close();
        var running = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));

        using var client = new CancellationTokenSource();
        var abandoned = Submit(scheduler, target, tag: 2, cancellationToken: client.Token);
        Assert.Equal(1, scheduler.QueuedItems(Priority.Routine));
        await client.CancelAsync();

        Assert.Equal(0, scheduler.QueuedItems(Priority.Routine));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        target.Open();
        await running;
        Assert.Equal([1], target.Runs.SelectMany(r => r.Tags));
    }

    [Fact]
    public async Task Batching_QueuedRequests_BatchedUpToMaxSizeAndEachGetsItsOwnOutputs()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 4 });
        target.Close();
        var first = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));
        var queued = Enumerable.Range(2, 6).Select(tag => Submit(scheduler, target, tag)).ToList();
        target.Open();
        var results = await Task.WhenAll(queued);

        Assert.Equal([1, 4, 2], target.Runs.Select(r => r.BatchSize));
        Assert.Equal([4, 4, 4, 4, 2, 2], results.Select(r => r.BatchSize));
        for (var i = 0; i < results.Length; i++)
        {
            var alone = RunAlone(2 + i);
            for (var h = 0; h < alone.Length; h++)
            {
                Assert.Equal(alone[h], results[i].Outputs[h]);
            }
        }

        await first;
    }

    [Fact]
    public async Task Batching_TwoIdleLoops_ShareTheQueueInsteadOfOneTakingItAll()
    {
        using var target = new GatedTarget(fixture.Version);
        target.Close();
        using var scheduler = new InferenceScheduler(new SchedulerOptions { MaxBatchSize = 16, InferenceLoops = 2 });
        var queued = Enumerable.Range(1, 8).Select(tag => Submit(scheduler, target, tag)).ToList();
        scheduler.Start();
        Assert.True(await target.WaitForRunAsync(Wait));
        Assert.True(await target.WaitForRunAsync(Wait));
        target.Open();
        var results = await Task.WhenAll(queued);

        // Both loops ran at once (the gate held the first until the second had entered), four ECGs each, in queue order.
        Assert.Equal([4, 4], target.Runs.Select(r => r.BatchSize));
        Assert.Equal(Enumerable.Range(1, 8), target.Runs.SelectMany(r => r.Tags).Order());
        Assert.All(results, r => Assert.Equal(4, r.BatchSize));
    }

    [Theory]
    [InlineData(1000, true)]
    [InlineData(0, false)]
    public async Task Batching_ClosedLoopClientsOnTwoLoops_GatherWindowKeepsTheirBatchesWhole(double gatherMs, bool whole)
    {
        // Four closed-loop clients, two loops, 800 ms of compute per item (a 200 ms window, wide enough for a CI
        // machine busy with other test assemblies: 200 ms of compute with a 50 ms window failed there, and 500 ms
        // with 125 ms once at a load average of 12): each loop should run two clients at a time. A client sends again
        // 1–4 ms after its answer (its own number), as clients answered together do over loopback.
        var target = new SlowTarget(fixture.Version, TimeSpan.FromMilliseconds(800));
        // The flat cost per item would have the adaptive cap run them one at a time; this test is about the window.
        using var scheduler = Start(new SchedulerOptions
        {
            MaxBatchSize = 16, InferenceLoops = 2, BatchGatherMs = gatherMs, AdaptiveBatchCap = false,
        });
        async Task Client(int id)
        {
            for (var round = 0; round < 8; round++)
            {
                await Submit(scheduler, target, tag: id);
                await Task.Delay(TimeSpan.FromMilliseconds(id));
            }
        }

        await Task.WhenAll(Enumerable.Range(1, 4).Select(Client)).WaitAsync(Wait);

        // After the first rounds (the loops start from nothing) and before the last two batches (clients that finish
        // their rounds apart leave a partner-less last batch), the batches: whole pairs with the window (a busy
        // machine may delay a client past it once or twice; a CI run at full load had two singles in the first six);
        // without it the first client back runs alone and the rest queue behind it, about two batches in three.
        var settled = target.BatchSizes.Skip(6).SkipLast(2).ToList();
        var singles = settled.Count(size => size == 1);
        if (whole)
        {
            Assert.True(singles <= 2, $"batches after warm-up: {string.Join(", ", settled)}");
        }
        else
        {
            Assert.True(singles >= 4, $"batches after warm-up: {string.Join(", ", settled)}");
        }
    }

    [Theory]
    [InlineData(true, false, 1)]
    [InlineData(true, true, 3)]
    [InlineData(false, false, 3)]
    public async Task Batching_AdaptiveCap_FollowsTheMeasuredCostPerItem(bool adaptive, bool costPerBatch, int expectedBatch)
    {
        // One loop. Each round runs one request alone, then holds the loop on another target (a gate, not timed
        // against this one) while three requests queue, which then run as one batch: sizes 1 and 3 are both measured.
        // 200 ms of compute per item at any size (a CPU core) makes batching buy nothing: the cap falls to 1 and the
        // next three queued requests run one by one. 200 ms per run whatever its size (a GPU) makes a batch of 3 a
        // third of the cost per item: no cap. With the cap off, batches are as before.
        var target = costPerBatch
            ? new SlowTarget(fixture.Version, TimeSpan.Zero, TimeSpan.FromMilliseconds(200))
            : new SlowTarget(fixture.Version, TimeSpan.FromMilliseconds(200));
        using var blocker = new GatedTarget(fixture.Version);
        var events = new CapEvents();
        // A 15 % gain (not the default 5 %) keeps a loaded machine's late wake-ups from Thread.Sleep, which cost a batch of
        // 1 more per item than a batch of 3, from counting as a gain; the batch of 3 on the "GPU" saves 67 %.
        using var scheduler = Start(
            new SchedulerOptions { MaxBatchSize = 16, InferenceLoops = 1, AdaptiveBatchCap = adaptive, AdaptiveBatchCapGain = 0.15 }, events);
        async Task<List<int>> Round(int round)
        {
            var runsBefore = target.BatchSizes.Count;
            await Submit(scheduler, target, tag: round * 10).WaitAsync(Wait);
            blocker.Close();
            var held = Submit(scheduler, blocker, tag: 99);
            Assert.True(await blocker.WaitForRunAsync(Wait));
            var queued = Enumerable.Range(1, 3).Select(i => Submit(scheduler, target, tag: (round * 10) + i)).ToList();
            blocker.Open();
            await Task.WhenAll([held, .. queued]).WaitAsync(Wait);
            return [.. target.BatchSizes.Skip(runsBefore)];
        }

        for (var round = 0; round <= BatchCosts.MinSamples; round++)
        {
            Assert.Equal([1, 3], await Round(round));
        }

        int[] after = expectedBatch == 1 ? [1, 1, 1, 1] : [1, 3];
        Assert.Equal(after, await Round(9));
        Assert.Equal(expectedBatch == 1 ? 1 : 16, scheduler.BatchCap(target));
        Assert.Equal(scheduler.BatchCap(target), events.Caps.Last(c => c.Target == target).Cap);
    }

    [Fact]
    public async Task Batching_GatherWindow_LoneRequestDoesNotWait()
    {
        // One second per item makes the window a quarter of it, 250 ms: far from a loaded machine's wake-up delays.
        var target = new SlowTarget(fixture.Version, TimeSpan.FromSeconds(1));
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 16, InferenceLoops = 2, BatchGatherMs = 1000 });
        await Submit(scheduler, target, tag: 1).WaitAsync(Wait);

        // Share of one: nothing else is in the system to wait for, so the loop does not hold the window open.
        var alone = await Submit(scheduler, target, tag: 2).WaitAsync(Wait);

        Assert.Equal(1, alone.BatchSize);
        Assert.True(alone.QueueTime < TimeSpan.FromMilliseconds(150), $"queued {alone.QueueTime}");
    }

    [Fact]
    public async Task Batching_QueueDelay_HoldsPartialBatchUntilPreferredSize()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 8, PreferredBatchSizes = [3], MaxQueueDelayMs = 20_000 });
        var first = Submit(scheduler, target, tag: 1);
        var second = Submit(scheduler, target, tag: 2);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, target.ComputedItems);
        Assert.Equal(2, scheduler.QueuedItems(Priority.Routine));

        var third = Submit(scheduler, target, tag: 3);
        var results = await Task.WhenAll(first, second, third).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, r => Assert.Equal(3, r.BatchSize));
        Assert.Equal([1, 2, 3], Assert.Single(target.Runs).Tags);
    }

    [Fact]
    public async Task Batching_QueueDelay_StatRequestIsNotHeldAndTakesTheHeldBatchAlong()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 8, MaxQueueDelayMs = 60_000 });
        var held = new[] { Submit(scheduler, target, tag: 1, Priority.Batch), Submit(scheduler, target, tag: 2, Priority.Routine) };
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, target.ComputedItems);

        var stat = await Submit(scheduler, target, tag: 3, Priority.Stat).WaitAsync(Wait);
        var riders = await Task.WhenAll(held).WaitAsync(Wait);

        Assert.Equal(3, stat.BatchSize);
        Assert.All(riders, r => Assert.Equal(3, r.BatchSize));
        Assert.Equal([3, 2, 1], Assert.Single(target.Runs).Tags);
    }

    [Fact]
    public async Task Batching_QueueDelayPasses_DispatchesPartialBatch()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 8, MaxQueueDelayMs = 200 });
        var results = await Task.WhenAll(Submit(scheduler, target, tag: 1), Submit(scheduler, target, tag: 2)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, r => Assert.Equal(2, r.BatchSize));
        Assert.True(results[0].QueueTime >= TimeSpan.FromMilliseconds(150), $"queued {results[0].QueueTime}");
    }

    [Fact]
    public async Task DrainAsync_WorkQueued_FinishesItAndRefusesNewWork()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1 });
        target.Close();
        var running = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));
        var queued = Submit(scheduler, target, tag: 2);

        var drain = scheduler.DrainAsync(TimeSpan.FromSeconds(30));
        var late = Submit(scheduler, target, tag: 3);
        Assert.Equal(RejectionReason.ShuttingDown, (await Assert.ThrowsAsync<InferenceRejectedException>(() => late)).Reason);
        Assert.False(drain.IsCompleted);
        target.Open();

        Assert.True(await drain);
        await Task.WhenAll(running, queued);
        Assert.Equal([1, 2], target.Runs.SelectMany(r => r.Tags));
    }

    [Fact]
    public async Task DrainAsync_DrainTimeRunsOut_RefusesWhatIsStillQueued()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 1 });
        target.Close();
        var running = Submit(scheduler, target, tag: 1);
        Assert.True(await target.WaitForRunAsync(Wait));
        var queued = Submit(scheduler, target, tag: 2);

        Assert.False(await scheduler.DrainAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(RejectionReason.ShuttingDown, (await Assert.ThrowsAsync<InferenceRejectedException>(() => queued)).Reason);
        target.Open();
        await running;
    }

    [Fact]
    public void SubmitAsync_MoreItemsThanOneBatch_Refused()
    {
        using var target = new GatedTarget(fixture.Version);
        using var scheduler = Start(new SchedulerOptions { MaxBatchSize = 2 });
        var input = TensorPool.Shared.Rent(3 * target.InputLength);
        var request = new InferenceRequest(target, input, 3, Priority.Routine, InferenceRequest.DeadlineIn(Wait));
        Assert.Throws<ArgumentException>(() => { _ = scheduler.SubmitAsync(request); });
    }

    [Theory]
    [InlineData(0, 1, 2, 2, null)]
    [InlineData(0, 2, 2, 1, null)]
    [InlineData(0, 2, 5, 2, null)]
    [InlineData(1, 2, 2, 1, null)]
    [InlineData(2, 2, 2, 0, "exceeds")]
    [InlineData(0, 3, 2, 0, "exceeds")]
    public void ThreadBudget_IntraOpTimesLoops_NeverExceedsCores(int configured, int loops, int cores, int expected, string? error)
    {
        var (runtime, message) = ThreadBudget.Resolve(new RuntimeOptions { IntraOpThreads = configured }, loops, cores);
        if (error is null)
        {
            Assert.Null(message);
            Assert.Equal(expected, runtime!.IntraOpThreads);
            Assert.True(runtime.IntraOpThreads * loops <= cores);
        }
        else
        {
            Assert.Null(runtime);
            Assert.Contains(error, message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, 2, 2, 1)]
    [InlineData(0, 1, 1, 1)]
    [InlineData(0, 16, 8, 2)]
    [InlineData(4, 16, 4, 4)]
    [InlineData(3, 2, 1, 3)]
    public void ThreadBudget_AutomaticLayout_OneSingleThreadedLoopPerCore(int configured, int cores, int loops, int threads)
    {
        var runtime = new RuntimeOptions { IntraOpThreads = configured };

        var resolvedLoops = ThreadBudget.Loops(runtime, 0, cores);
        var (resolved, message) = ThreadBudget.Resolve(runtime, 0, cores);

        Assert.Equal(loops, resolvedLoops);
        if (configured > cores)
        {
            // An explicit thread count above the cores is refused, not silently lowered.
            Assert.Null(resolved);
            Assert.Contains("exceeds", message, StringComparison.Ordinal);
            return;
        }

        Assert.Null(message);
        Assert.Equal(threads, resolved!.IntraOpThreads);
        Assert.True(resolvedLoops * resolved.IntraOpThreads <= cores);
    }

    [Theory]
    [InlineData("stat", Priority.Stat)]
    [InlineData("ROUTINE", Priority.Routine)]
    [InlineData(" batch ", Priority.Batch)]
    [InlineData("1", Priority.Stat)]
    [InlineData("0", Priority.Routine)]
    [InlineData("2", Priority.Routine)]
    [InlineData("7", Priority.Batch)]
    public void Priorities_TryParse_ReadsNamesAndScheduleLevels(string text, Priority expected)
    {
        Assert.True(Priorities.TryParse(text, out var priority));
        Assert.Equal(expected, priority);
    }

    [Theory]
    [InlineData("urgent")]
    [InlineData("-1")]
    [InlineData("")]
    public void Priorities_TryParse_RejectsOtherValues(string text) => Assert.False(Priorities.TryParse(text, out _));

    /// <summary>
    /// The tiny model, taking <c>perBatch</c> + <c>perItem</c> × batch size of wall time per run (a stand-in for a
    /// real model's compute).
    /// </summary>
    private sealed class SlowTarget(ServedVersion inner, TimeSpan perItem, TimeSpan perBatch = default) : IInferenceTarget
    {
        public ConcurrentQueue<int> BatchSizes { get; } = new();


        public string ModelName => inner.ModelName;

        public string ModelVersion => inner.ModelVersion;

        public int InputLength => inner.InputLength;

        public IReadOnlyList<int> OutputSizes => inner.OutputSizes;

        public void Run(int loop, Memory<float> input, int batchSize, float[][] outputs)
        {
            BatchSizes.Enqueue(batchSize);
            Thread.Sleep(perBatch + (perItem * batchSize));
            inner.Run(loop, input, batchSize, outputs);
        }
    }

    /// <summary>Records the batch caps the scheduler reports.</summary>
    private sealed class CapEvents : ISchedulerEvents
    {
        public ConcurrentQueue<(IInferenceTarget Target, int Cap)> Caps { get; } = new();

        public void BatchCapChanged(IInferenceTarget target, int cap) => Caps.Enqueue((target, cap));

        public void RequestFinished(IInferenceTarget target, Priority priority, RequestOutcome outcome, TimeSpan queueTime)
        {
        }

        public void BatchExecuted(IInferenceTarget target, int batchSize, TimeSpan computeTime, bool succeeded)
        {
        }

        public void QueueDepthChanged(Priority priority, int items)
        {
        }

        public void BusyLoopsChanged(int busy)
        {
        }
    }

    private static InferenceScheduler Start(SchedulerOptions options, ISchedulerEvents? events = null)
    {
        var scheduler = new InferenceScheduler(options, events);
        scheduler.Start();
        return scheduler;
    }

    private static Task<InferenceResult> Submit(
        InferenceScheduler scheduler, IInferenceTarget target, int tag, Priority priority = Priority.Routine, TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var input = TensorPool.Shared.Rent(target.InputLength);
        TinyModels.Input(tag, target.InputLength).CopyTo(input.Span);
        var request = new InferenceRequest(target, input, 1, priority, InferenceRequest.DeadlineIn(deadline ?? Wait));
        return scheduler.SubmitAsync(request, cancellationToken);
    }

    private float[][] RunAlone(int tag)
    {
        var outputs = fixture.Version.OutputSizes.Select(size => new float[size]).ToArray();
        fixture.Version.Run(0, TinyModels.Input(tag, fixture.Version.InputLength), 1, outputs);
        return outputs;
    }
}
