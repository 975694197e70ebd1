using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Prometheus;

namespace Ecg2Af.Worker.InferenceProtocol.Grpc;

/// <summary>
/// gRPC calls the worker handled, by service, method and status code (<c>grpc_server_handled_total</c>, the names
/// go-grpc-prometheus made common) and their duration (<c>grpc_server_handling_seconds</c>). Labels come from the
/// methods the worker implements only, never from anything a client sent.
/// </summary>
internal sealed class GrpcMetricsInterceptor : Interceptor
{
    private static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly Counter Handled = Metrics.CreateCounter(
        "grpc_server_handled_total",
        "gRPC calls completed by the worker, by service, method and status code (OK, INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED, ...).",
        new CounterConfiguration { LabelNames = ["grpc_service", "grpc_method", "grpc_code"] });

    private static readonly Histogram Handling = Metrics.CreateHistogram(
        "grpc_server_handling_seconds",
        "Duration of gRPC calls the worker handled, by service and method.",
        new HistogramConfiguration { LabelNames = ["grpc_service", "grpc_method"], Buckets = DurationBuckets });

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, () => continuation(request, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    /// <summary>Runs one call and records its status code (a cancelled call counts as CANCELLED) and duration.</summary>
    private static async Task<T> ObserveAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.Unknown;
        try
        {
            var result = await call();
            code = StatusCode.OK;
            return result;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            code = StatusCode.Cancelled;
            throw;
        }
        finally
        {
            Record(context.Method, code, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The status code as gRPC spells it (OK, INVALID_ARGUMENT, ...).</summary>
    public static string CodeName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    };

    private static void Record(string method, StatusCode code, TimeSpan elapsed)
    {
        // context.Method is "/package.Service/Method" of a method this worker implements.
        var slash = method.LastIndexOf('/');
        var service = slash > 0 ? method[1..slash] : "unknown";
        var name = slash >= 0 ? method[(slash + 1)..] : method;
        Handled.WithLabels(service, name, CodeName(code)).Inc();
        Handling.WithLabels(service, name).Observe(elapsed.TotalSeconds);
    }
}
