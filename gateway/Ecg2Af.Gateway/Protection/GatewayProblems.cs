using Microsoft.AspNetCore.Mvc;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// RFC 7807 answers for requests the gateway refuses itself (they never carry <c>X-Ecg2Af-Worker</c>); a gRPC request
/// gets the matching gRPC status instead (401 → UNAUTHENTICATED, 429 → RESOURCE_EXHAUSTED, 503 → UNAVAILABLE,
/// 504 → DEADLINE_EXCEEDED, …, see <see cref="Routing.GrpcProtocol.FromHttpStatus"/>).
/// </summary>
internal static class GatewayProblems
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.Clear();
        if (Routing.GrpcProtocol.IsGrpc(context.Request))
        {
            // A gRPC client reads the status from grpc-status, not from the HTTP status or a JSON body.
            await Routing.GrpcProtocol.WriteStatusAsync(context, status, $"{title}: {detail}", retryAfter is { } grpcWait ? RetryAfterSeconds(grpcWait) : null);
            return;
        }

        response.StatusCode = status;
        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = RetryAfterSeconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>Whole seconds, rounded up, at least 1 (Retry-After has no fractions).</summary>
    public static long RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
}
