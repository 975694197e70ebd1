using System.Diagnostics;
using Ecg2Af.Gateway.Observability;
using Ecg2Af.Gateway.WarmUp;
using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Security;

/// <summary>
/// The key check at the edge, before the rate limiter and before any byte of the body is read: finds the route's
/// rule in <see cref="ApiKeyRoutes"/>, verifies the presented key against the configured hashes (constant time,
/// <see cref="ApiKeyRing"/>) and answers 401 (no or unknown key, with <c>WWW-Authenticate</c>) or 403 (key without
/// the scope) itself. A verified key becomes the <see cref="CallerKey"/> feature: the rate limiter partitions on it
/// and the forwarder sends its id to the worker. The key's text is never logged, traced, counted or kept.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyRing ring, WarmUpKey warmUp, GatewayMetrics metrics, ILogger<ApiKeyMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var rule = ApiKeyRoutes.Find(context.Request.Method, context.Request.Path);
        if (rule is null || rule.Access == RouteAccess.Open)
        {
            await next(context);
            return;
        }

        var headers = context.Request.Headers;
        var (presented, key) = ApiKeyCredentials.Read(headers.Authorization, headers[ApiKeyCredentials.ApiKeyHeader]);
        if (presented == Presented.None && rule.Access == RouteAccess.KeyOptional)
        {
            await next(context);
            return;
        }

        // The gateway's own warm-up key is looked at only while the warm-up runs, and only over loopback.
        var entry = presented == Presented.Key ? ring.Find(key) ?? warmUp.Find(key, context.Connection.RemoteIpAddress) : null;
        if (entry is null)
        {
            var reason = presented switch
            {
                Presented.None => "missing",
                Presented.Malformed => "malformed",
                _ => "unknown",
            };
            logger.KeyRefused(reason, rule.Template);
            metrics.Rejected(RejectionReason.Unauthenticated);
            await GatewayAnswers.UnauthenticatedAsync(context, presented switch
            {
                Presented.None => $"This route needs an API key: send 'Authorization: Bearer <key>' or '{ApiKeyCredentials.ApiKeyHeader}: <key>'.",
                Presented.Malformed => $"The credentials are malformed: send one 'Authorization: Bearer <key>' or one '{ApiKeyCredentials.ApiKeyHeader}' header.",
                _ => "The API key is not valid.",
            });
            return;
        }

        if (rule.Scope is { } scope && !entry.Allows(scope))
        {
            logger.KeyLacksScope(entry.Id!, scope, rule.Template);
            metrics.Rejected(RejectionReason.Forbidden);
            await GatewayAnswers.ForbiddenAsync(context, $"The API key '{entry.Id}' does not hold the '{scope}' scope this route needs.");
            return;
        }

        context.Features.Set(new CallerKey(entry));
        Activity.Current?.SetTag("ecg2af.key_id", entry.Id);
        await next(context);
    }
}

internal static partial class ApiKeyLog
{
    // The route template and a fixed reason only: never the key, the client address or anything else sent.
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Request to {Route} refused: API key {Reason}.")]
    public static partial void KeyRefused(this ILogger logger, string reason, string route);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Request to {Route} refused: key {KeyId} lacks scope {Scope}.")]
    public static partial void KeyLacksScope(this ILogger logger, string keyId, string scope, string route);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning,
        Message = "No API keys are configured (Security:ApiKeys): every route that needs a key answers 401.")]
    public static partial void NoKeysConfigured(this ILogger logger);
}
