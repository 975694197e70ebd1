using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Worker.Serving;

namespace Ecg2Af.Worker.Predictions;

/// <summary>
/// Hands one prepared ECG to the worker's batcher and awaits its outputs: the request thread never runs or waits for
/// inference; the batcher's own loops do.
/// </summary>
internal sealed class InferenceExecutor(InferenceScheduler scheduler)
{
    /// <summary>
    /// Queues <paramref name="input"/> (one item) for <paramref name="version"/>. Throws
    /// <see cref="InferenceRejectedException"/>, <see cref="InferenceFailedException"/> or
    /// <see cref="OperationCanceledException"/> as <see cref="InferenceScheduler.SubmitAsync"/> does.
    /// </summary>
    public async Task<(InferenceResult Result, IReadOnlyDictionary<string, double> TimingsMs)> RunAsync(
        ServedVersion version, float[] input, Admission admission, CancellationToken cancellationToken)
    {
        var buffer = TensorPool.Shared.Rent(version.InputLength);
        try
        {
            input.AsSpan(0, version.InputLength).CopyTo(buffer.Span);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var request = new InferenceRequest(version, buffer, 1, admission.Priority, admission.DeadlineTimestamp);
        var result = await scheduler.SubmitAsync(request, cancellationToken);
        var timings = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["queue"] = result.QueueTime.TotalMilliseconds,
            ["inference"] = result.ComputeTime.TotalMilliseconds,
        };
        return (result, timings);
    }
}
