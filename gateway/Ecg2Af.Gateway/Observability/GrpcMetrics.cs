using System.Diagnostics;
using Ecg2Af.Gateway.Routing;
using Prometheus;

namespace Ecg2Af.Gateway.Observability;

/// <summary>
/// gRPC calls through the gateway by service, method and final status (the worker's, or the gateway's own refusal):
/// <c>ecg2af_gateway_grpc_requests_total</c> and <c>ecg2af_gateway_grpc_request_duration_seconds</c>. Only the methods
/// the workers implement get their own label; anything else a client sends is <c>other</c>.
/// </summary>
internal sealed class GrpcMetricsMiddleware(RequestDelegate next)
{
    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Dictionary<string, string[]> KnownMethods = new(StringComparer.Ordinal)
    {
        ["inference.GRPCInferenceService"] = ["ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer"],
        ["grpc.health.v1.Health"] = ["Check", "Watch", "List"],
        ["grpc.reflection.v1alpha.ServerReflection"] = ["ServerReflectionInfo"],
        ["grpc.reflection.v1.ServerReflection"] = ["ServerReflectionInfo"],
    };

    private static readonly string[] CodeNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    ];

    private static readonly Counter Requests = Metrics.CreateCounter(
        "ecg2af_gateway_grpc_requests_total",
        "gRPC calls the gateway received, by service, method and final gRPC status (the worker's, or the gateway's own refusal).",
        new CounterConfiguration { LabelNames = ["grpc_service", "grpc_method", "grpc_code"] });

    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "ecg2af_gateway_grpc_request_duration_seconds",
        "Duration of gRPC calls through the gateway, request received to response end, by service and method.",
        new HistogramConfiguration { LabelNames = ["grpc_service", "grpc_method"], Buckets = DurationBuckets });

    public async Task InvokeAsync(HttpContext context)
    {
        if (!GrpcProtocol.IsGrpc(context.Request))
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var (service, method) = Labels(context.Request.Path);
            Requests.WithLabels(service, method, Code(context)).Inc();
            Duration.WithLabels(service, method).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    internal static (string Service, string Method) Labels(PathString path)
    {
        var value = path.Value ?? "";
        var slash = value.LastIndexOf('/');
        if (slash > 1 && KnownMethods.TryGetValue(value[1..slash], out var methods) && methods.Contains(value[(slash + 1)..]))
        {
            return (value[1..slash], value[(slash + 1)..]);
        }

        return ("other", "other");
    }

    private static string Code(HttpContext context)
    {
        if (GrpcProtocol.ResponseStatus(context) is { } code)
        {
            return code >= 0 && code < CodeNames.Length ? CodeNames[code] : "UNKNOWN";
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return "CANCELLED";
        }

        // No grpc-status: a plain HTTP answer (YARP's 502 after the last attempt failed, or a broken response), which a
        // gRPC client reads by the protocol's HTTP mapping.
        return context.Response.StatusCode == StatusCodes.Status200OK ? "UNKNOWN" : CodeNames[GrpcProtocol.FromHttpStatus(context.Response.StatusCode)];
    }
}
