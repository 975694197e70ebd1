namespace Ecg2Af.Inference.Serving;

/// <summary>How a request left the scheduler (the <c>outcome</c> metric label).</summary>
public enum RequestOutcome
{
    Success,
    QueueFull,
    DeadlineExceeded,
    DeadlineUnreachable,
    Cancelled,
    ShuttingDown,
    Error,
}

/// <summary>
/// What the scheduler reports as it works, for metrics and tests. Called on the scheduler's threads: implementations
/// must be quick and must not throw.
/// </summary>
public interface ISchedulerEvents
{
    /// <summary>A request left the scheduler. Queue time is zero for requests refused at admission.</summary>
    void RequestFinished(IInferenceTarget target, Priority priority, RequestOutcome outcome, TimeSpan queueTime);

    /// <summary>One ONNX Runtime run of <paramref name="batchSize"/> items finished (or failed).</summary>
    void BatchExecuted(IInferenceTarget target, int batchSize, TimeSpan computeTime, bool succeeded);

    /// <summary>
    /// The most items a batch for <paramref name="target"/> takes changed (the adaptive cap), or was first reported
    /// (after the version's first batch).
    /// </summary>
    void BatchCapChanged(IInferenceTarget target, int cap);

    /// <summary>Queued items per lane changed.</summary>
    void QueueDepthChanged(Priority priority, int items);

    /// <summary>Inference loops running a batch changed.</summary>
    void BusyLoopsChanged(int busy);
}

/// <summary>Reports nothing.</summary>
public sealed class NoSchedulerEvents : ISchedulerEvents
{
    public static NoSchedulerEvents Instance { get; } = new();

    public void RequestFinished(IInferenceTarget target, Priority priority, RequestOutcome outcome, TimeSpan queueTime)
    {
    }

    public void BatchExecuted(IInferenceTarget target, int batchSize, TimeSpan computeTime, bool succeeded)
    {
    }

    public void BatchCapChanged(IInferenceTarget target, int cap)
    {
    }

    public void QueueDepthChanged(Priority priority, int items)
    {
    }

    public void BusyLoopsChanged(int busy)
    {
    }
}
