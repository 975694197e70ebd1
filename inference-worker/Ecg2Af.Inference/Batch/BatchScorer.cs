using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Batch;

/// <summary>What to score and how: the records, the model version, reading hints, the lane, the window and hooks.</summary>
public sealed record BatchJob
{
    public required IReadOnlyList<BatchRecord> Records { get; init; }

    /// <summary>The version every record is scored with (the caller holds a lease on it for the whole job).</summary>
    public required ServedVersion Version { get; init; }

    public EcgReadOptions ReadOptions { get; init; } = EcgReadOptions.Default;

    public Priority Priority { get; init; } = Priority.Batch;

    /// <summary>Each record's deadline, counted from the moment it is handed to the batcher.</summary>
    public TimeSpan RecordTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a record keeps retrying when the batcher refuses it for a full lane or an unreachable deadline.</summary>
    public TimeSpan QueueWait { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Records in flight at once (read, preprocessed, queued or waiting to be written): the memory bound.</summary>
    public int Window { get; init; } = 32;

    /// <summary>
    /// Runs for every record once its answer is known and before it is handed out (the worker commits its audit
    /// record here); it may replace the item (for example with an error when the audit store is down).
    /// </summary>
    public Func<BatchItem, CancellationToken, ValueTask<BatchItem>>? Completed { get; init; }

    /// <summary>Called when a record failed for a reason other than its input (for logging).</summary>
    public Action<BatchRecord, Exception>? Failed { get; init; }
}

/// <summary>
/// Scores a batch job through the worker's batcher: each record is read and preprocessed just before its turn, handed
/// to the <see cref="InferenceScheduler"/> as one item (so records of many jobs and single requests share batches),
/// decoded into the same <see cref="PredictionResponse"/> a single prediction gets, and handed out in input order.
/// At most <see cref="BatchJob.Window"/> records are in flight, so memory does not grow with the job.
/// Shared by the worker's <c>POST /api/v1/predictions:batch</c> and the <c>ecg2af predict</c> command.
/// </summary>
public sealed class BatchScorer
{
    private readonly InferenceScheduler _scheduler;
    private readonly SemaphoreSlim _preparing;
    private int _inFlight;

    /// <param name="scheduler">The batcher (started).</param>
    /// <param name="maxConcurrentPreparations">Records read and preprocessed at once over all jobs (CPU work); 0: one per core.</param>
    public BatchScorer(InferenceScheduler scheduler, int maxConcurrentPreparations = 0)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        _scheduler = scheduler;
        var slots = maxConcurrentPreparations > 0 ? maxConcurrentPreparations : Environment.ProcessorCount;
        _preparing = new SemaphoreSlim(slots, slots);
    }

    /// <summary>Records in flight over all jobs right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Scores the job's records and yields one item per record, in input order, each as soon as it and every record
    /// before it are done. Stopping the enumeration (or <paramref name="cancellationToken"/>) takes the records still
    /// in flight out of the queue; records never started are not touched.
    /// </summary>
    public async IAsyncEnumerable<BatchItem> ScoreAsync(BatchJob job, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentOutOfRangeException.ThrowIfLessThan(job.Window, 1);
        var window = Math.Min(job.Window, _scheduler.Options.Capacity(job.Priority));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = new Queue<Task<BatchItem>>(window);
        var next = 0;
        try
        {
            while (next < job.Records.Count || pending.Count > 0)
            {
                while (next < job.Records.Count && pending.Count < window)
                {
                    pending.Enqueue(ProcessAsync(job, job.Records[next++], stop.Token));
                }

                var item = await pending.Peek();
                _ = pending.Dequeue();
                yield return item;
            }
        }
        finally
        {
            if (pending.Count > 0)
            {
                await stop.CancelAsync();
                try
                {
                    await Task.WhenAll(pending);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    // Expected: the records left the queue; the enumeration's own outcome is what the caller sees.
                }
            }
        }
    }

    private async Task<BatchItem> ProcessAsync(BatchJob job, BatchRecord record, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await Task.Yield(); // the caller goes on filling the window
            var item = await ScoreAsync(job, record, started, cancellationToken);
            return job.Completed is { } completed ? await completed(item, cancellationToken) : item;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<BatchItem> ScoreAsync(BatchJob job, BatchRecord record, long started, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7().ToString("N");
        var version = job.Version;
        IReadOnlyList<BatchFileFacts> facts = record.Files.Select(f => new BatchFileFacts(f.Name, f.Length, null)).ToList();
        BatchItem Failure(RecordProblem problem) => new()
        {
            Index = record.Index,
            Record = record.Name,
            Id = id,
            Files = facts,
            Status = problem.Status,
            Error = problem,
            LatencyMs = Elapsed(started),
        };

        ScoringInput input;
        await _preparing.WaitAsync(cancellationToken);
        try
        {
            (facts, input) = await Task.Run(() => Prepare(job, record), cancellationToken);
        }
        catch (EcgFormatException e)
        {
            if (e.Data[FactsKey] is IReadOnlyList<BatchFileFacts> known)
            {
                facts = known;
            }

            return Failure(RecordProblem.From(e));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
        {
            // Not the file's fault (a bug, out of memory): this record gets a 500 without the exception's text, the
            // other records carry on, and the host logs what happened.
            job.Failed?.Invoke(record, e);
            return Failure(RecordProblem.Internal());
        }
        finally
        {
            _preparing.Release();
        }

        var waitUntil = Stopwatch.GetTimestamp() + (long)(job.QueueWait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var buffer = TensorPool.Shared.Rent(version.InputLength);
            try
            {
                input.Prepared.Data.AsSpan(0, version.InputLength).CopyTo(buffer.Span);
            }
            catch
            {
                buffer.Dispose();
                throw;
            }

            InferenceResult result;
            try
            {
                var request = new InferenceRequest(version, buffer, 1, job.Priority, InferenceRequest.DeadlineIn(job.RecordTimeout));
                result = await _scheduler.SubmitAsync(request, cancellationToken);
            }
            catch (InferenceRejectedException e) when (e.Reason is RejectionReason.QueueFull or RejectionReason.DeadlineUnreachable
                && Stopwatch.GetTimestamp() < waitUntil)
            {
                // Background work waits its turn rather than failing: the lane is full of other work right now.
                var wait = e.RetryAfter ?? TimeSpan.FromMilliseconds(100);
                await Task.Delay(wait < TimeSpan.FromMilliseconds(20) ? TimeSpan.FromMilliseconds(20) : wait > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait,
                    cancellationToken);
                continue;
            }
            catch (InferenceRejectedException e)
            {
                return Failure(RecordProblem.From(e));
            }
            catch (InferenceFailedException e)
            {
                job.Failed?.Invoke(record, e);
                return Failure(RecordProblem.InferenceFailed());
            }

            var timings = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["queue"] = result.QueueTime.TotalMilliseconds,
                ["inference"] = result.ComputeTime.TotalMilliseconds,
            };
            var response = ScoringPipeline.Complete(id, version.Model, input, result.Outputs, 0, timings);
            return new BatchItem
            {
                Index = record.Index,
                Record = record.Name,
                Id = id,
                Files = facts,
                Status = 200,
                Prediction = response,
                LatencyMs = Elapsed(started),
            };
        }
    }

    private const string FactsKey = "ecg2af.batch.files";

    /// <summary>Reads the record's files (hashing each) and preprocesses them for the model.</summary>
    private static (IReadOnlyList<BatchFileFacts> Facts, ScoringInput Input) Prepare(BatchJob job, BatchRecord record)
    {
        var declared = record.Files.Sum(f => f.Length);
        if (declared > job.ReadOptions.MaxUploadBytes)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The record's files are {declared} bytes; at most {job.ReadOptions.MaxUploadBytes} are accepted per record."));
        }

        var facts = new List<BatchFileFacts>(record.Files.Count);
        var files = new List<EcgFile>(record.Files.Count);
        try
        {
            foreach (var file in record.Files)
            {
                var bytes = file.ReadAll();
                facts.Add(new BatchFileFacts(file.Name, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))));
                files.Add(new EcgFile(Path.GetFileName(file.Name), bytes));
            }

            return (facts, ScoringPipeline.Prepare(files, job.ReadOptions, job.Version.Signature));
        }
        catch (EcgFormatException e)
        {
            e.Data[FactsKey] = Complete(facts, record);
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"'{record.Files[facts.Count].Name}' could not be read: {e.Message}", e)
            {
                Data = { [FactsKey] = Complete(facts, record) },
            };
        }
    }

    /// <summary>The files read so far, then the rest as declared (no hash).</summary>
    private static List<BatchFileFacts> Complete(List<BatchFileFacts> read, BatchRecord record) =>
        [.. read, .. record.Files.Skip(read.Count).Select(f => new BatchFileFacts(f.Name, f.Length, null))];

    private static double Elapsed(long started) => Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3);
}
