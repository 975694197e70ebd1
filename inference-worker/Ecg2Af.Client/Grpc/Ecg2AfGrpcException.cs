using Grpc.Core;

namespace Ecg2Af.Client;

/// <summary>
/// The service refused a gRPC call (or its deadline passed): the gRPC status, the service's own words, and when it
/// asked the client to come back. It is an <see cref="RpcException"/>, so code that catches those keeps working.
/// </summary>
public sealed class Ecg2AfGrpcException : RpcException
{
    /// <summary>Creates the exception from a failed call.</summary>
    /// <param name="status">The gRPC status (code and detail).</param>
    /// <param name="trailers">The call's trailers (empty when none came).</param>
    /// <param name="method">The method called, e.g. <c>ModelInfer</c>.</param>
    public Ecg2AfGrpcException(Status status, Metadata trailers, string method)
        : base(status, trailers, Describe(status, trailers, method))
    {
        Method = method;
        RetryAfter = GrpcRetry.Hint(trailers) is { Ticks: >= 0 } wait ? wait : null;
    }

    /// <summary>The method that failed, e.g. <c>ModelInfer</c>.</summary>
    public string Method { get; }

    /// <summary>The service's detail (e.g. which field was wrong, or that an API key is needed).</summary>
    public string Detail => Status.Detail;

    /// <summary>When the service asked the client to come back (from <c>grpc-retry-pushback-ms</c> or <c>retry-after</c>), if it did.</summary>
    public TimeSpan? RetryAfter { get; }

    private static string Describe(Status status, Metadata trailers, string method)
    {
        var what = status.StatusCode switch
        {
            StatusCode.Unauthenticated => "no valid API key was sent (set Ecg2AfClientOptions.ApiKey; it goes as 'authorization: Bearer <key>')",
            StatusCode.PermissionDenied => "the API key lacks the scope this call needs",
            StatusCode.NotFound => "no such model or version",
            StatusCode.InvalidArgument => "the request was not valid",
            StatusCode.Unavailable => "the service could not take the call now",
            StatusCode.ResourceExhausted => "the caller's rate limit or the service's capacity was exhausted",
            StatusCode.DeadlineExceeded => "the deadline passed before an answer came",
            _ => null,
        };
        var message = $"The gRPC call {method} failed with {status.StatusCode}";
        message += what is null ? "." : $": {what}.";
        if (!string.IsNullOrEmpty(status.Detail))
        {
            message += $" The service said: {status.Detail}";
        }

        if (GrpcRetry.Hint(trailers) is { Ticks: >= 0 } wait)
        {
            message += $" (come back after {wait.TotalSeconds:0.###} s)";
        }

        return message;
    }
}
