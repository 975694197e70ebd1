using System.Diagnostics;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Scenarios;

namespace Ecg2Af.LoadTests.Load;

/// <summary>What one scenario run measured.</summary>
/// <param name="Scenario">What ran.</param>
/// <param name="Steps">Per step.</param>
/// <param name="Total">All steps together.</param>
/// <param name="Elapsed">From the first send to the last answer (or the time cap).</param>
/// <param name="Window">The load window: the phases' durations added up (the denominator of throughput).</param>
/// <param name="Scheduled">Sends scheduled (sent or dropped).</param>
/// <param name="HitTimeCap">Whether the hard time bound cut the run short.</param>
public sealed record ScenarioResult(
    Scenario Scenario, IReadOnlyList<StepRecorder> Steps, StepRecorder Total, TimeSpan Elapsed, TimeSpan Window, long Scheduled, bool HitTimeCap);

/// <summary>
/// Runs a scenario's phases against a client pool. Open phases send at precomputed times from a dedicated thread and
/// never wait for answers (latency counts from the scheduled time; a send that would exceed the in-flight cap is
/// dropped and counted). Closed phases run N users back to back. Every run stops at the request and time bounds.
/// </summary>
public sealed class ScenarioRunner
{
    private readonly ClientPool _clients;
    private readonly RunBounds _bounds;

    public ScenarioRunner(ClientPool clients, RunBounds bounds)
    {
        _clients = clients;
        _bounds = bounds;
    }

    /// <summary>
    /// Which step request <paramref name="index"/> is: a deterministic weighted pick from the seed and the index,
    /// spread evenly over the run.
    /// </summary>
    public static int PickStep(IReadOnlyList<StepDefinition> steps, long index, int seed)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 1)
        {
            return 0;
        }

        var total = steps.Sum(s => s.Weight);
        var u = Unit(seed, index) * total;
        for (var i = 0; i < steps.Count; i++)
        {
            u -= steps[i].Weight;
            if (u < 0)
            {
                return i;
            }
        }

        return steps.Count - 1;
    }

    /// <summary>
    /// Unmeasured load before a measured run: <paramref name="scenario"/>'s first phase, cut to <paramref name="during"/>,
    /// its results dropped. Nothing when <paramref name="during"/> is zero.
    /// </summary>
    public async Task WarmUpAsync(Scenario scenario, TimeSpan during, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (during > TimeSpan.Zero)
        {
            await RunAsync(scenario with { Load = [scenario.Load[0] with { During = during }] }, cancellationToken);
        }
    }

    public async Task<ScenarioResult> RunAsync(Scenario scenario, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var total = new StepRecorder("all");
        var recorders = scenario.Steps.Select(s => new StepRecorder(s.Name, total)).ToList();
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hardStop.CancelAfter(_bounds.MaxDuration);
        var state = new RunState(_bounds.MaxRequests);
        var started = Stopwatch.GetTimestamp();
        var plannedWindow = TimeSpan.FromSeconds(scenario.Load.Sum(p => p.During.TotalSeconds));
        total.SetWindowEnd(started + (long)(plannedWindow.TotalSeconds * Stopwatch.Frequency));
        foreach (var recorder in recorders)
        {
            recorder.SetWindowEnd(started + (long)(plannedWindow.TotalSeconds * Stopwatch.Frequency));
        }

        using var samplerStop = new CancellationTokenSource();
        var sampler = SampleAsync([.. recorders, total], started, samplerStop.Token);
        try
        {
            foreach (var phase in scenario.Load)
            {
                if (hardStop.IsCancellationRequested || state.BudgetExhausted)
                {
                    break;
                }

                if (phase.IsOpen)
                {
                    await Task.Factory.StartNew(
                        () => DispatchOpen(scenario, recorders, phase, state, hardStop.Token),
                        CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                }
                else
                {
                    await RunClosedAsync(scenario, recorders, (KeepConstantPhase)phase, state, hardStop.Token);
                }
            }

            // Wait for the answers still outstanding (bounded by the hard stop, which cancels them).
            Task[] pending;
            lock (state.InFlightTasks)
            {
                pending = [.. state.InFlightTasks];
            }

            await Task.WhenAll(pending);
        }
        finally
        {
            await samplerStop.CancelAsync();
            await sampler;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        foreach (var recorder in recorders.Append(total))
        {
            recorder.Sample(elapsed, _bounds.SampleInterval);
        }

        var window = plannedWindow > elapsed ? elapsed : plannedWindow;

        return new ScenarioResult(scenario, recorders, total, elapsed, window, state.Scheduled, hardStop.IsCancellationRequested && !cancellationToken.IsCancellationRequested);
    }

    private void DispatchOpen(Scenario scenario, List<StepRecorder> recorders, LoadPhase phase, RunState state, CancellationToken token)
    {
        var phaseStart = Stopwatch.GetTimestamp();
        var lateTicks = (long)(_bounds.LateTolerance.TotalSeconds * Stopwatch.Frequency);
        foreach (var offset in OpenSchedule.Offsets(phase))
        {
            if (token.IsCancellationRequested || !state.TryTakeBudget())
            {
                return;
            }

            var scheduled = phaseStart + (long)(offset.TotalSeconds * Stopwatch.Frequency);
            WaitUntil(scheduled, token);
            if (token.IsCancellationRequested)
            {
                return;
            }

            var index = state.NextIndex();
            var stepIndex = PickStep(scenario.Steps, index, _bounds.Seed);
            var recorder = recorders[stepIndex];
            if (Volatile.Read(ref state.InFlight) >= _bounds.MaxInFlight)
            {
                recorder.RecordDropped();
                continue;
            }

            if (Stopwatch.GetTimestamp() - scheduled > lateTicks)
            {
                recorder.RecordLate();
            }

            Interlocked.Increment(ref state.InFlight);
            var step = scenario.Steps[stepIndex];
            var client = (int)(index % _clients.Count);
            var task = Task.Run(async () =>
            {
                try
                {
                    var outcome = await RequestExecutor.SendAsync(_clients[client], step, new RequestContext(index, client), scheduled, token);
                    recorder.Record(outcome);
                }
                finally
                {
                    Interlocked.Decrement(ref state.InFlight);
                }
            }, CancellationToken.None);
            lock (state.InFlightTasks)
            {
                state.InFlightTasks.RemoveAll(t => t.IsCompleted);
                state.InFlightTasks.Add(task);
            }
        }
    }

    private async Task RunClosedAsync(Scenario scenario, List<StepRecorder> recorders, KeepConstantPhase phase, RunState state, CancellationToken token)
    {
        var phaseEnd = Stopwatch.GetTimestamp() + (long)(phase.During.TotalSeconds * Stopwatch.Frequency);
        var users = Enumerable.Range(0, phase.Users).Select(user => Task.Run(async () =>
        {
            var client = user % _clients.Count;
            while (!token.IsCancellationRequested && Stopwatch.GetTimestamp() < phaseEnd && state.TryTakeBudget())
            {
                var index = state.NextIndex();
                var stepIndex = PickStep(scenario.Steps, index, _bounds.Seed);
                var now = Stopwatch.GetTimestamp();
                var outcome = await RequestExecutor.SendAsync(_clients[client], scenario.Steps[stepIndex], new RequestContext(index, client), now, token);
                recorders[stepIndex].Record(outcome);
            }
        }, CancellationToken.None));
        await Task.WhenAll(users);
    }

    private async Task SampleAsync(List<StepRecorder> recorders, long started, CancellationToken token)
    {
        using var timer = new PeriodicTimer(_bounds.SampleInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                foreach (var recorder in recorders)
                {
                    recorder.Sample(elapsed, _bounds.SampleInterval);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sleeps while the send is more than 2 ms away, then spins, so sends leave within a fraction of a millisecond.</summary>
    private static void WaitUntil(long timestamp, CancellationToken token)
    {
        var twoMs = Stopwatch.Frequency / 500;
        while (!token.IsCancellationRequested)
        {
            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            if (remaining > twoMs)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(20);
            }
        }
    }

    private static double Unit(int seed, long index)
    {
        // A golden-ratio (Weyl) sequence shifted by the seed: deterministic, and evenly spread even over a few
        // requests, so a 10 % step gets about one request in every ten rather than 10 % on average.
        const double Golden = 0.6180339887498949;
        var shift = (seed * 0.7548776662466927) % 1.0;
        var u = (shift + (index * Golden)) % 1.0;
        return u < 0 ? u + 1 : u;
    }

    private sealed class RunState(long budget)
    {
        public readonly List<Task> InFlightTasks = [];
        public int InFlight;
        private long _budget = budget;
        private long _index = -1;

        public long Scheduled => Interlocked.Read(ref _index) + 1;

        public bool BudgetExhausted => Interlocked.Read(ref _budget) <= 0;

        public bool TryTakeBudget() => Interlocked.Decrement(ref _budget) >= 0;

        public long NextIndex() => Interlocked.Increment(ref _index);
    }
}
