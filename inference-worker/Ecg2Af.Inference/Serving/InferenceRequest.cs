using System.Diagnostics;

namespace Ecg2Af.Inference.Serving;

/// <summary>
/// One request for the scheduler: <see cref="Items"/> inputs of one model version, back to back in a pooled
/// <see cref="TensorBuffer"/>, with a lane and a deadline. The scheduler takes ownership of the buffer and returns it
/// to its pool once the input has been copied into a batch (or the request is refused).
/// </summary>
public sealed class InferenceRequest
{
    public InferenceRequest(IInferenceTarget target, TensorBuffer input, int items, Priority priority, long deadlineTimestamp)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        if (input.Length != items * target.InputLength)
        {
            throw new ArgumentException(
                $"The input holds {input.Length} values; {items} item(s) of {target.ModelName}/{target.ModelVersion} need {items * target.InputLength}.",
                nameof(input));
        }

        Target = target;
        Input = input;
        Items = items;
        Priority = priority;
        DeadlineTimestamp = deadlineTimestamp;
    }

    public IInferenceTarget Target { get; }

    public TensorBuffer Input { get; }

    /// <summary>Batch items this request brings (1 for one ECG).</summary>
    public int Items { get; }

    public Priority Priority { get; }

    /// <summary>The <see cref="Stopwatch.GetTimestamp"/> after which the request must not be computed.</summary>
    public long DeadlineTimestamp { get; }

    /// <summary>A deadline <paramref name="timeout"/> from now.</summary>
    public static long DeadlineIn(TimeSpan timeout) =>
        timeout >= TimeSpan.FromDays(3650) ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>The outputs of one request, split out of its batch, and how it was served.</summary>
/// <param name="Outputs">One array per output head (signature order), each <c>items × head size</c> long.</param>
/// <param name="BatchSize">Items in the ONNX Runtime run that computed this request.</param>
/// <param name="QueueTime">From admission until its batch was dispatched.</param>
/// <param name="ComputeTime">The batch's run time (shared by every request in it).</param>
/// <param name="Loop">The inference loop (and so session) that ran it.</param>
public sealed record InferenceResult(float[][] Outputs, int BatchSize, TimeSpan QueueTime, TimeSpan ComputeTime, int Loop);

/// <summary>Why the scheduler did not compute a request.</summary>
public enum RejectionReason
{
    /// <summary>The request's lane is at its bound. HTTP 503 with Retry-After.</summary>
    QueueFull,

    /// <summary>The deadline passed before compute started; the request was never computed. HTTP 504.</summary>
    DeadlineExceeded,

    /// <summary>The work queued ahead cannot finish before the deadline. HTTP 503 with Retry-After.</summary>
    DeadlineUnreachable,

    /// <summary>The worker is draining for shutdown. HTTP 503 with Retry-After.</summary>
    ShuttingDown,
}

/// <summary>A request refused or dropped before compute.</summary>
public sealed class InferenceRejectedException : Exception
{
    public InferenceRejectedException(RejectionReason reason, string message, TimeSpan? retryAfter = null)
        : base(message)
    {
        Reason = reason;
        RetryAfter = retryAfter;
    }

    public RejectionReason Reason { get; }

    /// <summary>When a retry may succeed (queue full, unreachable deadline, shutting down).</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>ONNX Runtime failed on the batch that held the request.</summary>
public sealed class InferenceFailedException : Exception
{
    public InferenceFailedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
