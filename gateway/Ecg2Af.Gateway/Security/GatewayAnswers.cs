using Ecg2Af.Gateway.Protection;
using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Security;

/// <summary>
/// 401 (with <c>WWW-Authenticate</c>) and 403 as RFC 7807 ProblemDetails; <see cref="GatewayProblems"/> answers gRPC
/// calls with UNAUTHENTICATED or PERMISSION_DENIED instead, as it does for every answer the gateway gives itself.
/// </summary>
internal static class GatewayAnswers
{
    public static Task UnauthenticatedAsync(HttpContext context, string detail)
    {
        // GatewayProblems clears the response first; the challenge goes on as the answer starts.
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = ApiKeyCredentials.Challenge;
            }

            return Task.CompletedTask;
        });
        return GatewayProblems.WriteAsync(context, StatusCodes.Status401Unauthorized, "API key required", detail);
    }

    public static Task ForbiddenAsync(HttpContext context, string detail) =>
        GatewayProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "API key not allowed here", detail);
}
