using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Worker.Serving;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.InferenceProtocol;

/// <summary>Why an OIP request was not served, independent of the transport (REST maps it to a status code, gRPC to a status).</summary>
internal enum ProtocolFailureKind
{
    /// <summary>The request itself is wrong (tensor, shape, datatype, values, parameters): 400 / INVALID_ARGUMENT.</summary>
    InvalidArgument,

    /// <summary>Unknown model or version: 404 / NOT_FOUND.</summary>
    NotFound,

    /// <summary>Not now (lane full, deadline unreachable, draining, model loading or refused): 503 / UNAVAILABLE, with a retry hint.</summary>
    Unavailable,

    /// <summary>The deadline passed before compute: 504 / DEADLINE_EXCEEDED.</summary>
    DeadlineExceeded,

    /// <summary>ONNX Runtime failed on the batch (logged): 500 / INTERNAL.</summary>
    Internal,
}

/// <summary>An OIP request that was not served; the message is safe to send to the client.</summary>
internal sealed class ProtocolFailure(ProtocolFailureKind kind, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public ProtocolFailureKind Kind { get; } = kind;

    /// <summary>When to come back (Unavailable only).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public int HttpStatus => Kind switch
    {
        ProtocolFailureKind.InvalidArgument => StatusCodes.Status400BadRequest,
        ProtocolFailureKind.NotFound => StatusCodes.Status404NotFound,
        ProtocolFailureKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ProtocolFailureKind.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>A model or version that cannot be resolved: unknown (not found) or not ready (come back in a second).</summary>
    public static ProtocolFailure Unresolved(ResolveStatus status, string message) =>
        status is ResolveStatus.UnknownModel or ResolveStatus.UnknownVersion
            ? new ProtocolFailure(ProtocolFailureKind.NotFound, message)
            : new ProtocolFailure(ProtocolFailureKind.Unavailable, message, TimeSpan.FromSeconds(1));
}

/// <summary>
/// The part of an OIP inference that does not depend on the transport, shared by the REST and gRPC endpoints: take a
/// lease on the model version, submit the parsed input to the <see cref="InferenceScheduler"/> (its lanes, batching,
/// deadlines and cancellation), and turn every refusal into a <see cref="ProtocolFailure"/>. Also the facts both
/// transports report: model metadata and the response parameters.
/// </summary>
internal sealed class ProtocolInference(
    ModelCatalog catalog, InferenceScheduler scheduler, IOptions<SchedulerOptions> options, ILogger<InferenceScheduler> logger)
{
    public SchedulerOptions Serving => options.Value;

    public ModelCatalog Catalog => catalog;

    public InferenceScheduler Scheduler => scheduler;

    /// <summary>A lease on the version that serves the request; throws <see cref="ProtocolFailure"/> when there is none.</summary>
    public VersionLease Acquire(string model, string? version)
    {
        var resolution = catalog.Acquire(model, string.IsNullOrEmpty(version) ? null : version);
        return resolution.Lease ?? throw ProtocolFailure.Unresolved(resolution.Status, resolution.Message);
    }

    /// <summary>Submits the request's input (the scheduler takes the buffer) and waits for its outputs.</summary>
    /// <exception cref="ProtocolFailure">Refused (overload, deadline, draining) or failed.</exception>
    /// <exception cref="OperationCanceledException">The client went away; nothing was computed.</exception>
    public async Task<InferenceResult> RunAsync(ServedVersion target, InferRequestBody body, Admission admission, CancellationToken cancellationToken)
    {
        try
        {
            var request = new InferenceRequest(target, body.TakeInput(), body.Items, admission.Priority, admission.DeadlineTimestamp);
            return await scheduler.SubmitAsync(request, cancellationToken);
        }
        catch (InferenceRejectedException e)
        {
            throw e.Reason == RejectionReason.DeadlineExceeded
                ? new ProtocolFailure(ProtocolFailureKind.DeadlineExceeded, e.Message)
                : new ProtocolFailure(ProtocolFailureKind.Unavailable, e.Message, e.RetryAfter);
        }
        catch (InferenceFailedException e)
        {
            logger.InferenceFailed(target.ModelName, target.ModelVersion, e);
            throw new ProtocolFailure(ProtocolFailureKind.Internal, "The model failed on this request; it was logged.");
        }
    }

    /// <summary>Model metadata (the latest ready version without <paramref name="version"/>); throws <see cref="ProtocolFailure"/>.</summary>
    public ModelMetadata Describe(string model, string? version)
    {
        var (status, served, message) = catalog.Resolve(model, string.IsNullOrEmpty(version) ? null : version);
        if (served is null)
        {
            throw ProtocolFailure.Unresolved(status, message);
        }

        var signature = served.Signature;
        var input = signature.Input;
        var versions = catalog.Models.TryGetValue(model, out var view)
            ? view.Versions.Where(v => v.State == VersionState.Ready).Select(v => v.Version).ToList()
            : [served.ModelVersion];
        var parameters = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["version"] = served.ModelVersion,
            ["execution_provider"] = served.ExecutionProvider,
            ["weights"] = signature.Provenance.Weights,
            ["model_sha256"] = served.Model.OnnxSha256,
            ["sample_rate_hz"] = input.SampleRateHz,
            ["leads"] = string.Join(",", input.Leads),
            ["layout"] = input.Layout,
            ["notice"] = Notices.For(signature),
        };
        if (served.Model.Graph.Rewrite is { } rewrite)
        {
            parameters["graph_rewrite"] = rewrite;
            parameters["served_graph_sha256"] = served.Model.Graph.Sha256;
        }

        if (signature.Provenance.Decoder is { } decoder)
        {
            parameters["decoder"] = decoder;
        }

        // Where the sessions run and why: one provider per session (they agree, or the version does not serve), the
        // fallback reason when CUDA was allowed but is not in use, and the batch shapes ONNX Runtime sees.
        parameters["execution_provider_sessions"] = string.Join(",", served.SessionProviders);
        if (served.Fallback is { } fallback)
        {
            parameters["execution_provider_fallback"] = fallback.Label;
            parameters["execution_provider_fallback_detail"] = fallback.ToString();
        }

        if (served.PaddedBatchSizes is { } padded)
        {
            parameters["allowed_batch_sizes"] = string.Join(",", padded);
        }

        return new ModelMetadata(
            served.ModelName,
            versions,
            ServingMetrics.Platform,
            [new TensorMetadata(input.Name, InferInput.Fp32, [-1, input.Samples, input.Leads.Count])],
            signature.Outputs.Select(o => new TensorMetadata(o.Name, InferInput.Fp32, [-1, o.Size])).ToList(),
            parameters);
    }

    /// <summary>Whether the model (or version) serves now; throws <see cref="ProtocolFailure"/> (not found) when unknown.</summary>
    public bool IsModelReady(string model, string? version)
    {
        var (status, served, message) = catalog.Resolve(model, string.IsNullOrEmpty(version) ? null : version);
        return status is ResolveStatus.UnknownModel or ResolveStatus.UnknownVersion
            ? throw new ProtocolFailure(ProtocolFailureKind.NotFound, message)
            : served is not null;
    }

    /// <summary>The response parameters both transports send: provenance and serving facts, in this order.</summary>
    public static IEnumerable<KeyValuePair<string, object>> ResponseParameters(ServedVersion version, InferenceResult result, Priority priority)
    {
        yield return new("execution_provider", version.ExecutionProvider);
        yield return new("weights", version.Signature.Provenance.Weights);
        yield return new("model_sha256", version.Model.OnnxSha256);
        yield return new("batch_size", (long)result.BatchSize);
        yield return new("queue_ms", Math.Round(result.QueueTime.TotalMilliseconds, 3));
        yield return new("compute_ms", Math.Round(result.ComputeTime.TotalMilliseconds, 3));
        yield return new("priority", priority.Name());
        yield return new("notice", Notices.For(version.Signature));
    }

    /// <summary>The outputs to send, as (index into the signature's heads, binary?): the requested ones in their order, else all.</summary>
    public static List<(int Index, bool Binary)> SelectOutputs(InferRequestBody request, ServedVersion version)
    {
        var heads = version.Signature.Outputs;
        return request.Outputs is { Count: > 0 } wanted
            ? wanted.Select(o => (Index: IndexOf(heads, o.Name), Binary: o.Binary ?? request.BinaryOutputs)).ToList()
            : heads.Select((_, i) => (Index: i, Binary: request.BinaryOutputs)).ToList();
    }

    private static int IndexOf(IReadOnlyList<Ecg2Af.Inference.SignatureOutput> heads, string name)
    {
        for (var i = 0; i < heads.Count; i++)
        {
            if (heads[i].Name == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"No output '{name}'.");
    }
}
