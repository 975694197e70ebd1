using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Inference.Serving;

/// <summary>How the worker batches, queues and admits inference work. Section <c>Serving</c>.</summary>
public sealed class SchedulerOptions : IValidatableObject
{
    public const string Section = "Serving";

    /// <summary>Most batch items (ECGs) one ONNX Runtime run takes.</summary>
    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>
    /// Batch sizes worth dispatching at once while <see cref="MaxQueueDelayMs"/> holds a partial batch open. Empty:
    /// only <see cref="MaxBatchSize"/> dispatches early. Has no effect when the delay is 0.
    /// </summary>
    public int[] PreferredBatchSizes { get; set; } = [];

    /// <summary>
    /// Batch sizes ONNX Runtime runs (as TF Serving's <c>allowed_batch_sizes</c>): a partial batch is padded with zero
    /// rows up to the next one, so only these shapes reach cuDNN, and each is warmed up before the worker is ready.
    /// Increasing; the last one must be <see cref="MaxBatchSize"/>. Empty (the default): on CUDA, powers of two up to
    /// MaxBatchSize plus MaxBatchSize; on the CPU every size runs unpadded.
    /// </summary>
    public int[] AllowedBatchSizes { get; set; } = [];

    /// <summary>
    /// How long the oldest queued request may wait for more requests to join its batch. 0 (the default): dispatch
    /// whatever is queued as soon as an inference loop is free.
    /// </summary>
    [Range(0, 60_000)]
    public double MaxQueueDelayMs { get; set; }

    /// <summary>
    /// With several loops and no queue delay: how long a free loop may wait for the rest of its share of the work
    /// (queued + running ÷ loops) when fewer requests are queued than that, capped at a quarter of the measured compute
    /// time of one ECG. Closed-loop clients answered together send their next requests within a few milliseconds of each
    /// other; without this wait the first of them runs alone and the rest queue behind a full batch, which doubles the
    /// tail at moderate concurrency. 0: dispatch at once. A lone request (share 1) and stat requests never wait.
    /// </summary>
    [Range(0, 1_000)]
    public double BatchGatherMs { get; set; } = 8;

    /// <summary>
    /// Without a queue delay: cap batches at the smallest size beyond which the measured compute time per item falls by
    /// less than <see cref="AdaptiveBatchCapGain"/> (<see cref="BatchCosts"/>, per model version, from the batches the
    /// worker runs). Where a batch costs the same per ECG at any size, batching only makes an ECG that just missed a
    /// batch wait for all of it; where larger batches are cheaper (a GPU), the cap stays at <see cref="MaxBatchSize"/>.
    /// A capped scheduler still lets one batch in 30 s run uncapped, so larger sizes stay measured. false: batches up
    /// to MaxBatchSize.
    /// </summary>
    public bool AdaptiveBatchCap { get; set; } = true;

    /// <summary>The least fraction of the compute time per item a larger batch must save to lift the adaptive cap to it.</summary>
    [Range(0, 1)]
    public double AdaptiveBatchCapGain { get; set; } = 0.05;

    /// <summary>
    /// Concurrent inference loops (one ONNX Runtime session each per model version). 0 (the default): the automatic
    /// layout of <see cref="ThreadBudget.Loops"/>, one loop per core; the worker resolves it at start-up. A scheduler
    /// constructed with 0 runs one loop.
    /// </summary>
    [Range(0, 64)]
    public int InferenceLoops { get; set; }

    /// <summary>
    /// Requests the worker sends itself over loopback before it reports ready (JIT tiering, ONNX Runtime's first runs),
    /// in waves of 1, 2, 4, … up to <see cref="MaxBatchSize"/> at once. 0: report ready cold.
    /// </summary>
    [Range(0, 10_000)]
    public int WarmUpRequests { get; set; } = 32;

    /// <summary>Queue bound per priority lane, in batch items; beyond it requests are refused (503 + Retry-After).</summary>
    [Required]
    public LaneCapacities QueueCapacity { get; set; } = new();

    /// <summary>Deadline given to a request that names none.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Refuse at admission (503 + Retry-After) a request whose deadline cannot be met given the work queued ahead of it
    /// and the measured compute time per item, instead of queueing it only to expire.
    /// </summary>
    public bool ShedUnreachableDeadlines { get; set; } = true;

    /// <summary>On shutdown, how long queued and running requests get to finish before the rest are refused.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// On shutdown, how long readiness reports 503 (and new work is refused) before the listener closes, even when
    /// the queue drains sooner, so load balancers see it and route elsewhere first.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ShutdownReadinessDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxQueueDelay => TimeSpan.FromMilliseconds(MaxQueueDelayMs);

    /// <summary>The batch shapes sessions run and warm up, from <see cref="MaxBatchSize"/> and <see cref="AllowedBatchSizes"/>.</summary>
    public Runtime.BatchShapes BatchShapes() => new(MaxBatchSize, AllowedBatchSizes ?? []);

    public int Capacity(Priority priority) => priority switch
    {
        Priority.Stat => QueueCapacity.Stat,
        Priority.Routine => QueueCapacity.Routine,
        _ => QueueCapacity.Batch,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var size in PreferredBatchSizes ?? [])
        {
            if (size < 1 || size > MaxBatchSize)
            {
                yield return new ValidationResult(
                    $"Preferred batch size {size} must be between 1 and MaxBatchSize ({MaxBatchSize}).", [nameof(PreferredBatchSizes)]);
            }
        }

        if (Runtime.BatchShapes.Validate(MaxBatchSize, AllowedBatchSizes ?? []) is { } allowed)
        {
            yield return new ValidationResult($"Serving:AllowedBatchSizes: {allowed}", [nameof(AllowedBatchSizes)]);
        }

        foreach (var priority in Priorities.All)
        {
            if (Capacity(priority) < 1)
            {
                yield return new ValidationResult($"QueueCapacity:{priority} must be at least 1.", [nameof(QueueCapacity)]);
            }
        }
    }
}

/// <summary>Queue bound of each priority lane, in batch items.</summary>
public sealed class LaneCapacities
{
    [Range(1, 1_000_000)]
    public int Stat { get; set; } = 16;

    [Range(1, 1_000_000)]
    public int Routine { get; set; } = 64;

    [Range(1, 1_000_000)]
    public int Batch { get; set; } = 256;
}
