using Ecg2Af.Gateway.Protection;
using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Security;

/// <summary>
/// 401 and 403 as RFC 7807 ProblemDetails, or, for gRPC calls (content type <c>application/grpc*</c>), as a
/// trailers-only gRPC answer with status UNAUTHENTICATED (16) or PERMISSION_DENIED (7).
/// </summary>
internal static class GatewayAnswers
{
    public const int GrpcUnauthenticated = 16;
    public const int GrpcPermissionDenied = 7;

    public static Task UnauthenticatedAsync(HttpContext context, string detail)
    {
        if (IsGrpc(context.Request))
        {
            return GrpcAsync(context, GrpcUnauthenticated, detail);
        }

        context.Response.Headers.WWWAuthenticate = ApiKeyCredentials.Challenge;
        return WriteWithChallengeAsync(context, StatusCodes.Status401Unauthorized, "API key required", detail);
    }

    public static Task ForbiddenAsync(HttpContext context, string detail) =>
        IsGrpc(context.Request)
            ? GrpcAsync(context, GrpcPermissionDenied, detail)
            : GatewayProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "API key not allowed here", detail);

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    private static async Task WriteWithChallengeAsync(HttpContext context, int status, string title, string detail)
    {
        // GatewayProblems clears the response first; the challenge goes back on before anything is sent.
        context.Response.OnStarting(() =>
        {
            context.Response.Headers.WWWAuthenticate = ApiKeyCredentials.Challenge;
            return Task.CompletedTask;
        });
        await GatewayProblems.WriteAsync(context, status, title, detail);
    }

    private static Task GrpcAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        return Task.CompletedTask;
    }
}
