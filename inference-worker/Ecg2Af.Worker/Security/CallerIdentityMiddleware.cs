using System.Diagnostics;
using Ecg2Af.Security;
using Ecg2Af.Worker.Audit;

namespace Ecg2Af.Worker.Security;

/// <summary>
/// Who is calling, before the endpoint reads a byte of the body:
/// <list type="bullet">
/// <item>From a trusted proxy (127.0.0.1, ::1, <c>Audit:TrustedProxies</c>: the gateway), <c>X-Ecg2Af-Key-Id</c>
/// names the key the gateway verified (and whose scope it checked at the edge).</item>
/// <item>Otherwise that header is ignored, and a key sent directly (<c>Authorization: Bearer</c> or
/// <c>X-Api-Key</c>) is verified here against the worker's own <c>Security:ApiKeys</c>, scope included.</item>
/// </list>
/// Routes that need a key (<see cref="ApiKeyRequirement"/>) answer 401 without one, 403 without the scope, so a
/// worker port is no anonymous way around the gateway.
/// </summary>
internal sealed class CallerIdentityMiddleware(RequestDelegate next, ApiKeyRing ring, ClientAddress proxies, ILogger<CallerIdentityMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var requirement = context.GetEndpoint()?.Metadata.GetMetadata<ApiKeyRequirement>();
        var headers = context.Request.Headers;
        var forwarded = headers[ApiKeyCredentials.KeyIdHeader];
        var trusted = proxies.IsTrustedPeer(context.Connection.RemoteIpAddress);
        if (!trusted)
        {
            // Nobody but the gateway may say which key a request belongs to.
            headers.Remove(ApiKeyCredentials.KeyIdHeader);
        }

        if (requirement is null)
        {
            await next(context);
            return;
        }

        if (trusted && forwarded is [{ Length: > 0 and <= 64 } keyId])
        {
            Identify(context, new Caller(keyId, ViaProxy: true));
            await next(context);
            return;
        }

        var (presented, key) = ApiKeyCredentials.Read(headers.Authorization, headers[ApiKeyCredentials.ApiKeyHeader]);
        if (presented == Presented.None && !requirement.Required)
        {
            await next(context);
            return;
        }

        var entry = presented == Presented.Key ? ring.Find(key) : null;
        if (entry is null)
        {
            logger.KeyRefused(presented == Presented.None ? "missing" : presented == Presented.Malformed ? "malformed" : "unknown");
            context.Response.Headers.WWWAuthenticate = ApiKeyCredentials.Challenge;
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
                detail: presented == Presented.Key
                    ? "The API key is not valid."
                    : $"This route needs an API key: send 'Authorization: Bearer <key>' or '{ApiKeyCredentials.ApiKeyHeader}: <key>'.")
                .ExecuteAsync(context);
            return;
        }

        if (!entry.Allows(requirement.Scope))
        {
            logger.KeyLacksScope(entry.Id!, requirement.Scope);
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "API key not allowed here",
                detail: $"The API key '{entry.Id}' does not hold the '{requirement.Scope}' scope this route needs.").ExecuteAsync(context);
            return;
        }

        Identify(context, new Caller(entry.Id!, ViaProxy: false));
        await next(context);
    }

    private static void Identify(HttpContext context, Caller caller)
    {
        context.Features.Set(caller);
        Activity.Current?.SetTag("ecg2af.key_id", caller.KeyId);
    }
}

internal static partial class CallerIdentityLog
{
    // A fixed reason and the key id only: never the key itself.
    [LoggerMessage(EventId = 720, Level = LogLevel.Information, Message = "Direct request refused: API key {Reason}")]
    public static partial void KeyRefused(this ILogger logger, string reason);

    [LoggerMessage(EventId = 721, Level = LogLevel.Information, Message = "Direct request refused: key {KeyId} lacks scope {Scope}")]
    public static partial void KeyLacksScope(this ILogger logger, string keyId, string scope);
}
