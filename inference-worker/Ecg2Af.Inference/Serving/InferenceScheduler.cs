using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Ecg2Af.Inference.Serving;

/// <summary>
/// The worker's dynamic batcher: bounded priority lanes in front of <see cref="SchedulerOptions.InferenceLoops"/>
/// dedicated inference threads, each running one ONNX Runtime session per model version.
/// <list type="bullet">
/// <item>Admission: a request is refused at once when its lane is full, the worker drains, its deadline has passed,
/// or (optionally) the work ahead of it cannot finish before its deadline.</item>
/// <item>Batching: a free loop takes the oldest request of the highest non-empty lane, then every queued request for the
/// same model version in lane order, up to <see cref="SchedulerOptions.MaxBatchSize"/> items; without a queue delay and
/// with several loops it takes only its share of the work in the system ((queued + running items) ÷ loops, rounded up),
/// so loops run even batches side by side; short of what it expects (that share, or its last batch's size) it waits up
/// to <see cref="SchedulerOptions.BatchGatherMs"/> from when it came free for the clients it just answered; and it
/// takes no more than the adaptive cap (<see cref="BatchCosts"/>): the batch size beyond which the measured compute
/// time per item stops falling by <see cref="SchedulerOptions.AdaptiveBatchCapGain"/>. With a queue delay it
/// holds a partial batch open until the delay passes, the batch is full, or it reaches a preferred size; a batch led by
/// a <c>stat</c> request is never held.</item>
/// <item>Deadlines and cancellation: a queued request leaves its lane when its deadline passes (a timer) or its caller
/// cancels, and deadlines are checked again when a batch forms and just before compute; neither is ever computed.</item>
/// <item>Outputs are copied out of the batch per request, so a result depends only on its own input.</item>
/// </list>
/// Callers await a task; no caller thread ever runs or waits for inference.
/// </summary>
public sealed class InferenceScheduler : IDisposable
{
    private static readonly TimeSpan UnknownRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>While the adaptive cap holds batches below the maximum, one batch per this interval runs uncapped.</summary>
    private static readonly long UncappedEveryTicks = 30 * Stopwatch.Frequency;

    private readonly SchedulerOptions _options;
    private readonly ISchedulerEvents _events;
    private readonly object _gate = new();
    private readonly LinkedList<Pending>[] _lanes = [new(), new(), new()];
    private readonly int[] _laneItems = new int[3];
    private readonly HashSet<int> _preferred;
    private readonly long _delayTicks;
    private readonly SemaphoreSlim _former = new(1, 1);
    private readonly Thread[] _threads;
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _started;
    private bool _draining;
    private bool _stopping;
    private int _busy;
    private int _runningItems;

    /// <summary>Exponentially weighted compute seconds per batch item; 0 until the first batch ran.</summary>
    private double _secondsPerItem;

    /// <summary>Items of each loop's last batch: the clients it just answered, who are likely to send again.</summary>
    private readonly int[] _lastBatchItems;

    /// <summary>Measured compute time per item by batch size, per model version (dropped with the version).</summary>
    private readonly ConditionalWeakTable<IInferenceTarget, BatchCosts> _costs = [];

    /// <summary>Whether batches follow <see cref="BatchCosts.Cap"/> (the option, and no queue delay).</summary>
    private readonly bool _adaptiveCap;

    /// <summary>When the next batch the adaptive cap would cut may run uncapped, so larger sizes stay measured.</summary>
    private long _uncappedAfter;

    public InferenceScheduler(SchedulerOptions options, ISchedulerEvents? events = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _events = events ?? NoSchedulerEvents.Instance;
        _preferred = [.. options.PreferredBatchSizes ?? []];
        _delayTicks = (long)(options.MaxQueueDelay.TotalSeconds * Stopwatch.Frequency);
        _adaptiveCap = options.AdaptiveBatchCap && _delayTicks == 0;
        _threads = new Thread[Math.Max(1, options.InferenceLoops)];
        _lastBatchItems = new int[_threads.Length];
        for (var i = 0; i < _threads.Length; i++)
        {
            var loop = i;
            _threads[i] = new Thread(() => RunLoop(loop)) { IsBackground = true, Name = $"ecg2af-inference-{loop}" };
        }
    }

    public int Loops => _threads.Length;

    public SchedulerOptions Options => _options;

    /// <summary>Whether batches follow the measured adaptive cap (<see cref="SchedulerOptions.AdaptiveBatchCap"/>, and no queue delay).</summary>
    public bool AdaptiveBatchCap => _adaptiveCap;

    public bool IsDraining
    {
        get
        {
            lock (_gate)
            {
                return _draining;
            }
        }
    }

    /// <summary>Batch items waiting in <paramref name="priority"/>'s lane.</summary>
    public int QueuedItems(Priority priority)
    {
        lock (_gate)
        {
            return _laneItems[(int)priority];
        }
    }

    /// <summary>Inference loops running a batch right now.</summary>
    public int BusyLoops
    {
        get
        {
            lock (_gate)
            {
                return _busy;
            }
        }
    }

    /// <summary>
    /// The most items a batch for <paramref name="target"/> takes now: the adaptive cap (see
    /// <see cref="SchedulerOptions.AdaptiveBatchCap"/>) or <see cref="SchedulerOptions.MaxBatchSize"/>.
    /// </summary>
    public int BatchCap(IInferenceTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_gate)
        {
            return CapLocked(target);
        }
    }

    /// <summary>Starts the inference threads (once).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_started)
            {
                return;
            }

            _started = true;
        }

        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>
    /// Queues <paramref name="request"/>. The task completes with its outputs, or fails with
    /// <see cref="InferenceRejectedException"/> (refused or expired, never computed), <see cref="OperationCanceledException"/>
    /// (<paramref name="cancellationToken"/> fired while it was queued; it leaves the queue at once) or
    /// <see cref="InferenceFailedException"/>. The scheduler owns <see cref="InferenceRequest.Input"/> from here on.
    /// </summary>
    public Task<InferenceResult> SubmitAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Items > _options.MaxBatchSize)
        {
            request.Input.Dispose();
            throw new ArgumentException(
                $"The request holds {request.Items} items; at most {_options.MaxBatchSize} fit one batch.", nameof(request));
        }

        var pending = new Pending(request, cancellationToken);
        var lane = (int)request.Priority;
        InferenceRejectedException? refusal = null;
        RequestOutcome outcome = RequestOutcome.Success;
        var admitted = false;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (_draining || _stopping)
            {
                outcome = RequestOutcome.ShuttingDown;
                refusal = new InferenceRejectedException(RejectionReason.ShuttingDown,
                    "The worker is shutting down and takes no new work; retry on another worker.", UnknownRetryAfter);
            }
            else if (cancellationToken.IsCancellationRequested)
            {
                outcome = RequestOutcome.Cancelled;
            }
            else if (request.DeadlineTimestamp <= now)
            {
                outcome = RequestOutcome.DeadlineExceeded;
                refusal = new InferenceRejectedException(RejectionReason.DeadlineExceeded,
                    "The request's deadline passed before it could be queued; it was not computed.");
            }
            else if (_laneItems[lane] + request.Items > _options.Capacity(request.Priority))
            {
                outcome = RequestOutcome.QueueFull;
                refusal = new InferenceRejectedException(RejectionReason.QueueFull,
                    $"The {request.Priority.Name()} queue is full ({_options.Capacity(request.Priority)} items); retry later.",
                    RetryAfterLocked());
            }
            else if (UnreachableLocked(request, now) is { } expectedWait)
            {
                outcome = RequestOutcome.DeadlineUnreachable;
                refusal = new InferenceRejectedException(RejectionReason.DeadlineUnreachable,
                    FormattableString.Invariant(
                        $"The work queued ahead needs about {expectedWait.TotalMilliseconds:F0} ms, longer than the request's deadline allows; retry later or with a longer deadline."),
                    RetryAfterLocked());
            }
            else
            {
                pending.Node = _lanes[lane].AddLast(pending);
                admitted = true;
                _laneItems[lane] += request.Items;
                _events.QueueDepthChanged(request.Priority, _laneItems[lane]);
                Monitor.PulseAll(_gate);
            }
        }

        if (!admitted)
        {
            request.Input.Dispose();
            _events.RequestFinished(request.Target, request.Priority, outcome, TimeSpan.Zero);
            return refusal is not null
                ? Task.FromException<InferenceResult>(refusal)
                : Task.FromCanceled<InferenceResult>(cancellationToken);
        }

        // Expire at the deadline even while every loop is busy, so the caller hears 504 on time.
        if (request.DeadlineTimestamp != long.MaxValue)
        {
            var due = TimeSpan.FromSeconds((request.DeadlineTimestamp - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            pending.Expiry = new Timer(
                static state =>
                {
                    var (scheduler, expiring) = ((InferenceScheduler, Pending))state!;
                    scheduler.Expire(expiring);
                },
                (this, pending),
                due > TimeSpan.Zero ? due : TimeSpan.Zero,
                Timeout.InfiniteTimeSpan);
            if (pending.Completion.Task.IsCompleted)
            {
                pending.Expiry.Dispose();
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            pending.Registration = cancellationToken.UnsafeRegister(
                static state =>
                {
                    var (scheduler, cancelled) = ((InferenceScheduler, Pending))state!;
                    scheduler.Cancel(cancelled);
                },
                (this, pending));
        }

        return pending.Completion.Task;
    }

    /// <summary>
    /// Admission before a request's body is read: the refusal <see cref="SubmitAsync"/> would give right now to
    /// <paramref name="items"/> item(s) in <paramref name="priority"/>'s lane because the worker drains or the lane is
    /// full, or null when the lane has room. Nothing is queued or reserved; a refusal is counted like one from
    /// <see cref="SubmitAsync"/>, so an overloaded worker spends no parsing on work it would turn away.
    /// </summary>
    public InferenceRejectedException? RefuseBeforeParsing(IInferenceTarget target, Priority priority, int items = 1)
    {
        ArgumentNullException.ThrowIfNull(target);
        InferenceRejectedException refusal;
        RequestOutcome outcome;
        lock (_gate)
        {
            if (_draining || _stopping)
            {
                outcome = RequestOutcome.ShuttingDown;
                refusal = new InferenceRejectedException(RejectionReason.ShuttingDown,
                    "The worker is shutting down and takes no new work; retry on another worker.", UnknownRetryAfter);
            }
            else if (_laneItems[(int)priority] + items > _options.Capacity(priority))
            {
                outcome = RequestOutcome.QueueFull;
                refusal = new InferenceRejectedException(RejectionReason.QueueFull,
                    $"The {priority.Name()} queue is full ({_options.Capacity(priority)} items); retry later. The request was not read.",
                    RetryAfterLocked());
            }
            else
            {
                return null;
            }
        }

        _events.RequestFinished(target, priority, outcome, TimeSpan.Zero);
        return refusal;
    }

    /// <summary>Refuses new work from now on (503); queued and running requests carry on.</summary>
    public void BeginDrain()
    {
        lock (_gate)
        {
            _draining = true;
            Monitor.PulseAll(_gate);
            CheckIdleLocked();
        }
    }

    /// <summary>
    /// Refuses new work and waits until every queued and running request has finished, at most
    /// <paramref name="timeout"/>; what is still queued then is refused (<see cref="RejectionReason.ShuttingDown"/>).
    /// Returns true when everything finished in time.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        BeginDrain();
        try
        {
            await _idle.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            FailQueued(RejectionReason.ShuttingDown, "The worker shut down before this request's turn; retry on another worker.");
            return false;
        }
    }

    /// <summary>Stops the inference threads after their current batch; queued requests are refused.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _draining = true;
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        FailQueued(RejectionReason.ShuttingDown, "The worker shut down before this request's turn; retry on another worker.");
        foreach (var thread in _threads)
        {
            if (thread.IsAlive)
            {
                thread.Join();
            }
        }

        _former.Dispose();
    }

    private void RunLoop(int loop)
    {
        var buffers = new LoopBuffers();
        while (true)
        {
            List<Pending>? batch;
            _former.Wait();
            try
            {
                batch = FormBatch(loop);
            }
            finally
            {
                _former.Release();
            }

            if (batch is null)
            {
                return;
            }

            Execute(loop, batch, buffers);
        }
    }

    /// <summary>Blocks until a batch is due (see the class remarks) and takes it out of the lanes; null when stopping.</summary>
    private List<Pending>? FormBatch(int loop)
    {
        var freeSince = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            while (true)
            {
                if (_stopping)
                {
                    return null;
                }

                var now = Stopwatch.GetTimestamp();
                DropExpiredLocked(now);
                var head = FirstLocked();
                if (head is null)
                {
                    CheckIdleLocked();
                    Monitor.Wait(_gate);
                    continue;
                }

                var (batch, items, overflow) = CollectLocked(head.Request.Target);
                var cap = CapLocked(head.Request.Target);
                var oldest = batch.Min(p => p.EnqueuedAt);
                var dueAt = _delayTicks == 0 ? now : oldest + _delayTicks;
                // Urgent work never waits for a batch to fill: a stat head goes at once, with whatever is queued beside it.
                var due = items >= cap || overflow || _preferred.Contains(items) || now >= dueAt || _draining
                    || head.Request.Priority == Priority.Stat;
                // Without a queue delay, with several loops, a loop takes its share of the work in the system
                // (queued + running items ÷ loops, rounded up) instead of everything queued: 8 queued ECGs and 2
                // idle loops make two batches of 4 side by side, and a loop that frees while the other runs 1 ECG
                // takes 4 of 6 queued, leaving 2 for the other, so batches (and latencies) stay even under a
                // closed loop of clients. Short of its share, it waits up to the gather window for the rest (the
                // clients just answered are sending again: as many as the loop's last batch held, or its share).
                // (With a delay the operator asked for full batches.)
                var loops = _threads.Length;
                var sharing = due && loops > 1 && _delayTicks == 0 && !_draining;
                var share = sharing ? (QueuedItemsLocked(head.Request.Target) + _runningItems + loops - 1) / loops : 0;
                var expected = Math.Min(Math.Max(share, _lastBatchItems[loop]), cap);
                if (sharing && items < expected && !overflow && head.Request.Priority != Priority.Stat)
                {
                    // Counted from when this loop came free, or from the first request if that came later.
                    var gatherUntil = Math.Max(oldest, freeSince) + GatherTicksLocked();
                    if (now < gatherUntil)
                    {
                        due = false;
                        dueAt = gatherUntil;
                    }
                }

                if (due)
                {
                    var limit = sharing ? Math.Min(share, cap) : cap;
                    if (limit < items && limit == cap && cap < _options.MaxBatchSize && now >= _uncappedAfter)
                    {
                        // The cap cuts this batch: now and then let one run as it would without the cap, so the
                        // larger sizes' costs stay measured and the cap can rise again if they become worth it.
                        limit = sharing ? share : _options.MaxBatchSize;
                        _uncappedAfter = now + UncappedEveryTicks;
                    }

                    if (limit < items)
                    {
                        (batch, items, _) = CollectLocked(head.Request.Target, limit);
                    }

                    foreach (var pending in batch)
                    {
                        RemoveLocked(pending);
                        pending.DispatchedAt = now;
                    }

                    _busy++;
                    _runningItems += items;
                    _lastBatchItems[loop] = items;
                    _events.BusyLoopsChanged(_busy);
                    return batch;
                }

                // Hold the partial batch open: wake on new work, when the delay is up, or when a member would expire.
                var wakeAt = Math.Min(dueAt, batch.Min(p => p.Request.DeadlineTimestamp));
                var wait = TimeSpan.FromSeconds(Math.Max(wakeAt - now, 0) / (double)Stopwatch.Frequency);
                Monitor.Wait(_gate, wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait);
            }
        }
    }

    /// <summary>The gather window in ticks: <see cref="SchedulerOptions.BatchGatherMs"/>, at most a quarter of one item's measured compute time.</summary>
    private long GatherTicksLocked()
    {
        var seconds = Math.Min(_options.BatchGatherMs / 1000, _secondsPerItem / 4);
        return (long)(seconds * Stopwatch.Frequency);
    }

    private void Execute(int loop, List<Pending> batch, LoopBuffers buffers)
    {
        var target = batch[0].Request.Target;
        var dispatchedItems = batch.Sum(p => p.Request.Items);

        // Last check before compute: nothing expired or abandoned is run.
        var now = Stopwatch.GetTimestamp();
        var live = new List<Pending>(batch.Count);
        foreach (var pending in batch)
        {
            if (pending.Request.DeadlineTimestamp <= now)
            {
                Finish(pending, RequestOutcome.DeadlineExceeded, new InferenceRejectedException(RejectionReason.DeadlineExceeded,
                    "The request's deadline passed while it was queued; it was not computed."));
            }
            else if (pending.CancellationToken.IsCancellationRequested)
            {
                Finish(pending, RequestOutcome.Cancelled, new OperationCanceledException(pending.CancellationToken));
            }
            else
            {
                live.Add(pending);
            }
        }

        if (live.Count > 0)
        {
            Compute(loop, target, live, buffers);
        }

        lock (_gate)
        {
            _busy--;
            _runningItems -= dispatchedItems;
            _events.BusyLoopsChanged(_busy);
            CheckIdleLocked();
        }
    }

    private void Compute(int loop, IInferenceTarget target, List<Pending> batch, LoopBuffers buffers)
    {
        var items = batch.Sum(p => p.Request.Items);
        var length = target.InputLength;
        Memory<float> input;
        if (batch.Count == 1)
        {
            input = batch[0].Request.Input.Memory;
        }
        else
        {
            var packed = buffers.Input(items * length, _options.MaxBatchSize * length);
            var offset = 0;
            foreach (var pending in batch)
            {
                pending.Request.Input.Span.CopyTo(packed.AsSpan(offset));
                offset += pending.Request.Input.Length;
            }

            input = packed.AsMemory(0, items * length);
        }

        var sizes = target.OutputSizes;
        var outputs = buffers.Outputs(sizes, Math.Max(items, _options.MaxBatchSize));
        var start = Stopwatch.GetTimestamp();
        Exception? failure = null;
        try
        {
            target.Run(loop, input, items, outputs);
        }
        catch (Exception e)
        {
            failure = e;
        }

        var end = Stopwatch.GetTimestamp();
        var computeTime = Stopwatch.GetElapsedTime(start, end);
        foreach (var pending in batch)
        {
            pending.Request.Input.Dispose();
        }

        TraceComputed(batch, target, items, loop, start, end, failure is null);

        _events.BatchExecuted(target, items, computeTime, failure is null);
        if (failure is not null)
        {
            var error = new InferenceFailedException(
                $"ONNX Runtime failed on a batch of {items} for {target.ModelName}/{target.ModelVersion}: {failure.Message}", failure);
            foreach (var pending in batch)
            {
                Finish(pending, RequestOutcome.Error, error);
            }

            return;
        }

        int? capNow = null;
        lock (_gate)
        {
            var sample = computeTime.TotalSeconds / items;
            _secondsPerItem = _secondsPerItem == 0 ? sample : (0.8 * _secondsPerItem) + (0.2 * sample);
            if (!_costs.TryGetValue(target, out var costs))
            {
                costs = new BatchCosts(_options.MaxBatchSize, _options.AdaptiveBatchCapGain);
                _costs.Add(target, costs);
                capNow = CapLocked(target);
            }

            if (costs.Record(items, computeTime.TotalSeconds) && _adaptiveCap)
            {
                capNow = costs.Cap;
                _uncappedAfter = end + UncappedEveryTicks;
            }
        }

        if (capNow is { } cap)
        {
            _events.BatchCapChanged(target, cap);
        }

        var itemOffset = 0;
        foreach (var pending in batch)
        {
            var own = new float[sizes.Count][];
            for (var h = 0; h < own.Length; h++)
            {
                own[h] = outputs[h].AsSpan(itemOffset * sizes[h], pending.Request.Items * sizes[h]).ToArray();
            }

            itemOffset += pending.Request.Items;
            var queueTime = Stopwatch.GetElapsedTime(pending.EnqueuedAt, pending.DispatchedAt);
            pending.Registration.Unregister();
            pending.Expiry?.Dispose();
            if (pending.Completion.TrySetResult(new InferenceResult(own, items, queueTime, computeTime, loop)))
            {
                _events.RequestFinished(target, pending.Request.Priority, RequestOutcome.Success, queueTime);
            }
        }
    }

    /// <summary>Completes a request that leaves without being computed (its input goes back to the pool).</summary>
    private void Finish(Pending pending, RequestOutcome outcome, Exception error)
    {
        pending.Registration.Unregister();
        pending.Expiry?.Dispose();
        pending.Request.Input.Dispose();
        var left = pending.DispatchedAt == 0 ? Stopwatch.GetTimestamp() : pending.DispatchedAt;
        if (outcome != RequestOutcome.Error && !pending.Completion.Task.IsCompleted)
        {
            // Requests of a failed batch already have their spans (TraceComputed).
            TraceNotComputed(pending, outcome, left);
        }

        var completed = error is OperationCanceledException cancelled
            ? pending.Completion.TrySetCanceled(cancelled.CancellationToken)
            : pending.Completion.TrySetException(error);
        if (completed)
        {
            var queueTime = Stopwatch.GetElapsedTime(pending.EnqueuedAt, left);
            _events.RequestFinished(pending.Request.Target, pending.Request.Priority, outcome, queueTime);
        }
    }

    /// <summary>
    /// One <c>queue_wait</c> and one <c>inference</c> span per request of a batch, each under the request's own span
    /// (a batch serves requests of different traces), recorded before the callers are released.
    /// </summary>
    private static void TraceComputed(List<Pending> batch, IInferenceTarget target, int items, int loop, long start, long end, bool succeeded)
    {
        if (!InferenceTelemetry.Source.HasListeners())
        {
            return;
        }

        var clock = InferenceTelemetry.Clock.Now();
        foreach (var pending in batch)
        {
            using (var wait = InferenceTelemetry.Record("queue_wait", pending.Parent, pending.EnqueuedAt, pending.DispatchedAt, clock))
            {
                wait?.SetTag("ecg2af.priority", pending.Request.Priority.Name());
            }

            using var run = InferenceTelemetry.Record("inference", pending.Parent, start, end, clock);
            if (run is null)
            {
                continue;
            }

            run.SetTag("ecg2af.model", target.ModelName);
            run.SetTag("ecg2af.model_version", target.ModelVersion);
            run.SetTag("ecg2af.batch_size", items);
            run.SetTag("ecg2af.items", pending.Request.Items);
            run.SetTag("ecg2af.inference_loop", loop);
            if (!succeeded)
            {
                InferenceTelemetry.Fail(run, "ONNX Runtime failed on the batch");
            }
        }
    }

    /// <summary>The <c>queue_wait</c> span of a request that left without being computed (expired, cancelled, shut down).</summary>
    private static void TraceNotComputed(Pending pending, RequestOutcome outcome, long left)
    {
        if (!InferenceTelemetry.Source.HasListeners())
        {
            return;
        }

        using var wait = InferenceTelemetry.Record("queue_wait", pending.Parent, pending.EnqueuedAt, left, InferenceTelemetry.Clock.Now());
        wait?.SetTag("ecg2af.priority", pending.Request.Priority.Name());
        wait?.SetTag("ecg2af.outcome", outcome.ToString());
        InferenceTelemetry.Fail(wait, $"Not computed: {outcome}");
    }

    /// <summary>A queued request's deadline timer fired: it leaves its lane uncomputed (504).</summary>
    private void Expire(Pending pending)
    {
        lock (_gate)
        {
            if (pending.Node is null)
            {
                // Already dispatched (the last check before compute applies) or gone.
                return;
            }

            var early = pending.Request.DeadlineTimestamp - Stopwatch.GetTimestamp();
            if (early > 0)
            {
                // The timer's coarse clock fired ahead of the deadline: arm it again for the rest, or the request would
                // only expire once a loop is free to form its batch.
                pending.Expiry?.Change(TimeSpan.FromSeconds(early / (double)Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                return;
            }

            RemoveLocked(pending);
            pending.DispatchedAt = Stopwatch.GetTimestamp();
            CheckIdleLocked();
        }

        Finish(pending, RequestOutcome.DeadlineExceeded, new InferenceRejectedException(RejectionReason.DeadlineExceeded,
            "The request's deadline passed while it was queued; it was not computed."));
    }

    private void Cancel(Pending pending)
    {
        lock (_gate)
        {
            if (pending.Node is null)
            {
                return;
            }

            RemoveLocked(pending);
            CheckIdleLocked();
        }

        Finish(pending, RequestOutcome.Cancelled, new OperationCanceledException(pending.CancellationToken));
    }

    private void FailQueued(RejectionReason reason, string message)
    {
        var failed = new List<Pending>();
        lock (_gate)
        {
            foreach (var lane in _lanes)
            {
                failed.AddRange(lane);
            }

            foreach (var pending in failed)
            {
                RemoveLocked(pending);
            }

            CheckIdleLocked();
        }

        foreach (var pending in failed)
        {
            Finish(pending, RequestOutcome.ShuttingDown, new InferenceRejectedException(reason, message, UnknownRetryAfter));
        }
    }

    private Pending? FirstLocked()
    {
        foreach (var lane in _lanes)
        {
            if (lane.First is { } first)
            {
                return first.Value;
            }
        }

        return null;
    }

    /// <summary>Requests for <paramref name="target"/> in lane order that fit one batch; overflow: one more did not fit.</summary>
    private (List<Pending> Batch, int Items, bool Overflow) CollectLocked(IInferenceTarget target) =>
        CollectLocked(target, _options.MaxBatchSize);

    /// <summary>As <see cref="CollectLocked(IInferenceTarget)"/>, at most <paramref name="limit"/> items (the head always).</summary>
    private (List<Pending> Batch, int Items, bool Overflow) CollectLocked(IInferenceTarget target, int limit)
    {
        var batch = new List<Pending>();
        var items = 0;
        var overflow = false;
        foreach (var lane in _lanes)
        {
            foreach (var pending in lane)
            {
                if (!ReferenceEquals(pending.Request.Target, target))
                {
                    continue;
                }

                if (items + pending.Request.Items > (items == 0 ? _options.MaxBatchSize : limit))
                {
                    overflow = true;
                    continue;
                }

                batch.Add(pending);
                items += pending.Request.Items;
            }
        }

        return (batch, items, overflow);
    }

    private int CapLocked(IInferenceTarget target) =>
        _adaptiveCap && _costs.TryGetValue(target, out var costs) ? costs.Cap : _options.MaxBatchSize;

    private int QueuedItemsLocked(IInferenceTarget target)
    {
        var items = 0;
        foreach (var lane in _lanes)
        {
            foreach (var pending in lane)
            {
                if (ReferenceEquals(pending.Request.Target, target))
                {
                    items += pending.Request.Items;
                }
            }
        }

        return items;
    }

    private void DropExpiredLocked(long now)
    {
        List<Pending>? expired = null;
        foreach (var lane in _lanes)
        {
            for (var node = lane.First; node is not null; node = node.Next)
            {
                if (node.Value.Request.DeadlineTimestamp <= now)
                {
                    (expired ??= []).Add(node.Value);
                }
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (var pending in expired)
        {
            RemoveLocked(pending);
            pending.DispatchedAt = now;
            Finish(pending, RequestOutcome.DeadlineExceeded, new InferenceRejectedException(RejectionReason.DeadlineExceeded,
                "The request's deadline passed while it was queued; it was not computed."));
        }
    }

    private void RemoveLocked(Pending pending)
    {
        if (pending.Node is not { } node)
        {
            return;
        }

        var lane = (int)pending.Request.Priority;
        _lanes[lane].Remove(node);
        pending.Node = null;
        _laneItems[lane] -= pending.Request.Items;
        _events.QueueDepthChanged(pending.Request.Priority, _laneItems[lane]);
    }

    private void CheckIdleLocked()
    {
        if (_draining && _busy == 0 && _laneItems[0] + _laneItems[1] + _laneItems[2] == 0)
        {
            _idle.TrySetResult();
        }
    }

    /// <summary>The expected wait when it cannot end before the request's deadline; null when it can (or is unknown).</summary>
    private TimeSpan? UnreachableLocked(InferenceRequest request, long now)
    {
        if (!_options.ShedUnreachableDeadlines || _secondsPerItem == 0 || request.DeadlineTimestamp == long.MaxValue)
        {
            return null;
        }

        // Work that runs before this request: running batches, and its own and higher lanes.
        var ahead = _runningItems;
        for (var lane = 0; lane <= (int)request.Priority; lane++)
        {
            ahead += _laneItems[lane];
        }

        var seconds = ((ahead / (double)Loops) + request.Items) * _secondsPerItem;
        var finish = now + (long)(seconds * Stopwatch.Frequency);
        return finish > request.DeadlineTimestamp ? TimeSpan.FromSeconds(seconds) : null;
    }

    /// <summary>How long the queued work should take to clear: a hint for Retry-After, at least one second.</summary>
    private TimeSpan RetryAfterLocked()
    {
        if (_secondsPerItem == 0)
        {
            return UnknownRetryAfter;
        }

        var queued = _runningItems + _laneItems[0] + _laneItems[1] + _laneItems[2];
        var seconds = Math.Ceiling(queued * _secondsPerItem / Loops);
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 120));
    }

    private sealed class Pending(InferenceRequest request, CancellationToken cancellationToken)
    {
        public InferenceRequest Request { get; } = request;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<InferenceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

        /// <summary>The submitter's span (the HTTP request), parent of this request's queue and inference spans.</summary>
        public ActivityContext Parent { get; } = Activity.Current?.Context ?? default;

        public long DispatchedAt { get; set; }

        public LinkedListNode<Pending>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Fires at the deadline; disposed once the request leaves the scheduler.</summary>
        public Timer? Expiry { get; set; }
    }

    /// <summary>One loop's batch input and output buffers, allocated once and grown only for a larger model or batch.</summary>
    private sealed class LoopBuffers
    {
        private float[] _input = [];
        private float[][] _outputs = [];

        public float[] Input(int length, int preferredLength)
        {
            if (_input.Length < length)
            {
                _input = GC.AllocateUninitializedArray<float>(Math.Max(length, preferredLength));
            }

            return _input;
        }

        public float[][] Outputs(IReadOnlyList<int> sizes, int items)
        {
            if (_outputs.Length < sizes.Count)
            {
                Array.Resize(ref _outputs, sizes.Count);
            }

            for (var h = 0; h < sizes.Count; h++)
            {
                if (_outputs[h] is null || _outputs[h].Length < sizes[h] * items)
                {
                    _outputs[h] = new float[sizes[h] * items];
                }
            }

            return _outputs;
        }
    }
}
