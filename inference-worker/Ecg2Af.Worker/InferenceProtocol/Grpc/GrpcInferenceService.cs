using System.Diagnostics;
using System.Globalization;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.Models;
using Ecg2Af.Worker.Serving;
using Grpc.Core;
using Inference;

namespace Ecg2Af.Worker.InferenceProtocol.Grpc;

/// <summary>
/// <c>inference.GRPCInferenceService</c>, the Open Inference Protocol over gRPC (protos/grpc_predict_v2.proto). It is the
/// REST OIP API with another envelope: the same <see cref="ProtocolInference"/> (lease, scheduler lanes, batching,
/// deadlines, cancellation, model versions), the same input checks (<see cref="InferInput"/>) and the same metrics.
/// The gRPC deadline is one more deadline source (the shortest wins, as on REST); the call's cancellation token takes
/// a request out of its lane when the client goes away. Errors: INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE (with
/// <c>retry-after</c> and <c>grpc-retry-pushback-ms</c> trailers), DEADLINE_EXCEEDED, INTERNAL. Each ModelInfer is
/// audited as a REST infer is (operation <c>infer</c>, the caller's key id, the model version, the HTTP-equivalent
/// status): the record commits before the response leaves, and a result whose record did not commit is withheld
/// (UNAVAILABLE), as <c>Audit:RequireCommit</c> says. The record id comes back in the <c>x-ecg2af-audit-id</c> header.
/// </summary>
internal sealed class GrpcInferenceService(ProtocolInference inference, WarmUpHost warmUp, PredictionAuditFilter audit)
    : GRPCInferenceService.GRPCInferenceServiceBase
{
    public const string Endpoint = "grpc_infer";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = ModelReadyHealthCheck.IsReady(inference.Catalog, inference.Scheduler, warmUp) });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        RequireKey(context);
        try
        {
            return Task.FromResult(new ModelReadyResponse { Ready = inference.IsModelReady(request.Name, request.Version) });
        }
        catch (ProtocolFailure e)
        {
            throw ToRpc(e);
        }
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var response = new ServerMetadataResponse { Name = InferenceProtocolApi.ServerName, Version = InferenceProtocolApi.ServerVersion };
        response.Extensions.AddRange(InferenceProtocolApi.Extensions);
        return Task.FromResult(response);
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        RequireKey(context);
        try
        {
            var metadata = inference.Describe(request.Name, request.Version);
            var response = new ModelMetadataResponse { Name = metadata.Name, Platform = metadata.Platform };
            response.Versions.AddRange(metadata.Versions);
            response.Inputs.AddRange(metadata.Inputs.Select(Tensor));
            response.Outputs.AddRange(metadata.Outputs.Select(Tensor));
            return Task.FromResult(response);
        }
        catch (ProtocolFailure e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        RequireKey(context);
        var started = Stopwatch.GetTimestamp();
        var cancellationToken = context.CancellationToken;
        var http = context.GetHttpContext();
        var record = audit.Begin(http, InferenceProtocolApi.AuditOperation);
        try
        {
            using var lease = inference.Acquire(request.ModelName, request.ModelVersion);
            var target = lease.Version;
            record.Target = target;
            InferRequestBody body;
            try
            {
                body = GrpcInferRequestReader.Read(request, target, inference.Serving.MaxBatchSize);
            }
            catch (InferRequestException e)
            {
                ServingMetrics.InvalidInput(target.ModelName, target.ModelVersion, Priority.Routine);
                throw new ProtocolFailure(ProtocolFailureKind.InvalidArgument, e.Message);
            }

            using (body)
            {
                // The gRPC deadline is one more source of the request's deadline; the shortest wins.
                if (context.Deadline != DateTime.MaxValue)
                {
                    var remaining = context.Deadline - DateTime.UtcNow;
                    remaining = remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
                    body.Timeout = body.Timeout is { } own && own < remaining ? own : remaining;
                }

                if (!AdmissionReader.TryRead(context.GetHttpContext().Request, body.Priority, body.Timeout, inference.Serving, started, out var admission, out var invalid))
                {
                    ServingMetrics.InvalidInput(target.ModelName, target.ModelVersion, Priority.Routine);
                    throw new ProtocolFailure(ProtocolFailureKind.InvalidArgument, invalid.Message);
                }

                var result = await inference.RunAsync(target, body, admission, cancellationToken);
                var response = new ModelInferResponse { ModelName = target.ModelName, ModelVersion = target.ModelVersion, Id = body.Id ?? "" };
                foreach (var (name, value) in ProtocolInference.ResponseParameters(target, result, admission.Priority))
                {
                    response.Parameters[name] = value switch
                    {
                        string text => new InferParameter { StringParam = text },
                        long whole => new InferParameter { Int64Param = whole },
                        double number => new InferParameter { DoubleParam = number },
                        _ => throw new InvalidOperationException($"Parameter {name} has no gRPC form."),
                    };
                }

                var heads = target.Signature.Outputs;
                foreach (var (index, _) in ProtocolInference.SelectOutputs(body, target))
                {
                    var values = result.Outputs[index];
                    var output = new ModelInferResponse.Types.InferOutputTensor { Name = heads[index].Name, Datatype = InferInput.Fp32 };
                    output.Shape.Add(values.Length / heads[index].Size);
                    output.Shape.Add(heads[index].Size);
                    response.Outputs.Add(output);
                    response.RawOutputContents.Add(GrpcInferRequestReader.RawContents(values));
                }

                if (!await record.CommitBeforeResponseAsync(http, StatusCodes.Status200OK))
                {
                    throw new ProtocolFailure(ProtocolFailureKind.Unavailable,
                        "This request could not be recorded in the audit trail, so no result is returned. Retry in a few seconds.", TimeSpan.FromSeconds(5));
                }

                ServingMetrics.Completed(target.ModelName, target.ModelVersion, Endpoint, Stopwatch.GetElapsedTime(started));
                return response;
            }
        }
        catch (ProtocolFailure e)
        {
            await record.CommitFailureAsync(http, e.HttpStatus, e.Message);
            throw ToRpc(e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or its gRPC deadline passed; the request left the queue without being computed.
            var expired = context.Deadline <= DateTime.UtcNow;
            await record.CommitFailureAsync(http, expired ? StatusCodes.Status504GatewayTimeout : 499, expired ? "deadline exceeded" : "cancelled by the client");
            throw new RpcException(new Status(expired ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
                "The call ended before the result was ready; nothing was computed."));
        }
        catch (Exception e) when (e is not RpcException)
        {
            // An internal failure: recorded, then answered INTERNAL by gRPC without the exception's text.
            await record.CommitFailureAsync(http, StatusCodes.Status500InternalServerError, e.GetType().Name);
            throw;
        }
    }

    /// <summary>The gRPC status of a request that was not served; UNAVAILABLE carries when to come back.</summary>
    public static RpcException ToRpc(ProtocolFailure failure)
    {
        var code = failure.Kind switch
        {
            ProtocolFailureKind.InvalidArgument => StatusCode.InvalidArgument,
            ProtocolFailureKind.NotFound => StatusCode.NotFound,
            ProtocolFailureKind.Unavailable => StatusCode.Unavailable,
            ProtocolFailureKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
            _ => StatusCode.Internal,
        };
        var trailers = new Metadata();
        if (failure.Kind == ProtocolFailureKind.Unavailable && failure.RetryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            trailers.Add("retry-after", seconds.ToString(CultureInfo.InvariantCulture));
            trailers.Add("grpc-retry-pushback-ms", ((long)seconds * 1000).ToString(CultureInfo.InvariantCulture));
        }

        return new RpcException(new Status(code, failure.Message), trailers);
    }

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(TensorMetadata tensor)
    {
        var result = new ModelMetadataResponse.Types.TensorMetadata { Name = tensor.Name, Datatype = tensor.Datatype };
        result.Shape.AddRange(tensor.Shape);
        return result;
    }

    /// <summary>
    /// Model calls need a caller: a key the worker verified itself, or the key id the gateway forwarded from a trusted
    /// proxy (<see cref="Security.CallerIdentityMiddleware"/> sets it; the service is mapped with an optional key, so
    /// the server probes stay open as they are at the gateway).
    /// </summary>
    private static void RequireKey(ServerCallContext context)
    {
        if (Security.Caller.KeyIdOf(context.GetHttpContext()) is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "This call needs an API key: send metadata 'authorization: Bearer <key>'."));
        }
    }
}
