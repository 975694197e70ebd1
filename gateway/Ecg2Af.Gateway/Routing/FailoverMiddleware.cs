using System.Diagnostics;
using System.Net;
using Ecg2Af.Gateway.Observability;
using Ecg2Af.Gateway.Protection;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// Runs the rest of YARP's proxy pipeline (load balancing, passive health, forwarder) once per attempt inside the
/// <see cref="FailoverPipeline"/>. The request body was buffered by <see cref="RequestBufferingMiddleware"/>.
/// </summary>
internal sealed class FailoverMiddleware(
    RequestDelegate next, FailoverPipeline failover, GatewayMetrics metrics, ClientSpread clients, IOptions<LimitsOptions> limits)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var attempts = new ForwardingAttempts(context, next, metrics, failover.MaxRetries);
        context.Features.Set(attempts);
        var result = await failover.Pipeline.ExecuteAsync(static (attempts, _) => attempts.NextAsync(), attempts, CancellationToken.None);
        if (result.DestinationId is { } servedBy)
        {
            clients.Served(servedBy, context.Connection.RemoteIpAddress);
        }

        // YARP reports a cancelled forward as a 400/502; when it was our deadline that cancelled it, say so.
        if (context.Features.Get<IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true } && !context.Response.HasStarted)
        {
            metrics.Rejected(RejectionReason.TimedOut);
            await ProtectionExtensions.DeadlinePassedAsync(context, limits.Value.RequestTimeout);
        }
    }
}

/// <summary>
/// The attempts for one request. Each attempt offers YARP the healthy destinations not tried yet, so the
/// <see cref="ClientIpHashPolicy"/> picks the client's first choice, then its next-ranked one, and so on.
/// </summary>
internal sealed class ForwardingAttempts(HttpContext context, RequestDelegate next, GatewayMetrics metrics, int maxRetries)
{
    private readonly IReverseProxyFeature _proxy = context.GetReverseProxyFeature();
    private readonly List<DestinationState> _tried = new(2);
    private IReadOnlyList<DestinationState>? _healthy;
    private int _attempt;

    /// <summary>Whether a failure of the current attempt would be retried (another attempt allowed and another destination left).</summary>
    public bool MayRetry { get; private set; }

    /// <summary>Set by <see cref="FailoverTransforms"/> when it held the current attempt's 503 back from the client.</summary>
    public bool HeldBack503 { get; set; }

    public async ValueTask<AttemptResult> NextAsync()
    {
        // The healthy list as YARP offered it, before load balancing narrowed it to one destination.
        _healthy ??= _proxy.AvailableDestinations;
        if (_attempt > 0)
        {
            // Nothing reached the client: drop the held-back 503 or YARP's 502, and rewind the buffered body.
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            if (context.Request.Body.CanSeek)
            {
                context.Request.Body.Position = 0;
            }
        }

        var candidates = _tried.Count == 0 ? _healthy : [.. _healthy.Where(d => !_tried.Contains(d))];
        _proxy.AvailableDestinations = candidates;
        _proxy.ProxiedDestination = null;
        MayRetry = _attempt < maxRetries && candidates.Count > 1;
        HeldBack503 = false;
        _attempt++;

        var started = Stopwatch.GetTimestamp();
        await next(context);
        var elapsed = Stopwatch.GetElapsedTime(started);

        if (_proxy.ProxiedDestination is not { } destination)
        {
            // No destination at all (none configured or resolved yet): the forwarder answered 503.
            metrics.Rejected(RejectionReason.NoDestination);
            context.Response.Headers.RetryAfter = "1";
            return default;
        }

        _tried.Add(destination);
        var failure = context.Features.Get<IForwarderErrorFeature>();
        var error = RetryReason.Classify(failure?.Error, failure?.Exception);
        var answered = error is null or ForwarderError.None;
        var status = context.Response.StatusCode;
        metrics.Attempt(destination.DestinationId, answered ? status : null, ErrorKind(error, status), elapsed);
        var reason = RetryReason.For(MayRetry, HeldBack503, error, context.Response.HasStarted, context.RequestAborted.IsCancellationRequested);
        if (reason == RetryReason.ServiceUnavailable && GrpcProtocol.IsGrpc(context.Request))
        {
            reason = RetryReason.GrpcUnavailable;
        }

        return new AttemptResult(destination.DestinationId, reason);
    }

    /// <summary>The <c>kind</c> label of <c>ecg2af_gateway_upstream_errors_total</c>, or null when the destination did nothing wrong.</summary>
    internal static string? ErrorKind(ForwarderError? error, int status) => error switch
    {
        null or ForwarderError.None => status >= 500 ? "http_5xx" : null,
        ForwarderError.RequestTimedOut or ForwarderError.UpgradeActivityTimeout => "timeout",
        ForwarderError.ResponseBodyDestination => "response_body",
        ForwarderError.Request or ForwarderError.RequestBodyDestination or ForwarderError.ResponseHeaders
            or ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination => "transport",
        _ => null, // the client cancelled or failed, or the gateway could not build the request
    };
}

/// <summary>Response transforms on every route: hold back a retryable 503, and name the worker on every worker response.</summary>
internal static class FailoverTransforms
{
    /// <summary>The header workers stamp with their stable instance id.</summary>
    public const string WorkerHeader = "X-Ecg2Af-Worker";

    public static void Apply(TransformBuilderContext builder)
    {
        // The gateway found the client (trusted proxies only); a Forwarded header from the client is not passed on.
        builder.AddRequestHeaderRemove("Forwarded");
        builder.AddResponseTransform(HoldBackRetryable503);
        builder.AddResponseTransform(NameTheWorker);
    }

    private static ValueTask HoldBackRetryable503(ResponseTransformContext transform)
    {
        if (transform.ProxyResponse is { } proxied &&
            (proxied.StatusCode == HttpStatusCode.ServiceUnavailable || GrpcProtocol.IsUnavailable(proxied)) &&
            transform.HttpContext.Features.Get<ForwardingAttempts>() is { MayRetry: true } attempts)
        {
            // YARP then sends none of it (status, headers and body stay here) and failover tries the next worker.
            transform.SuppressResponseBody = true;
            attempts.HeldBack503 = true;
        }

        return default;
    }

    private static ValueTask NameTheWorker(ResponseTransformContext transform)
    {
        // Workers stamp it themselves; this covers one that does not, using the gateway's id for it.
        var headers = transform.HttpContext.Response.Headers;
        if (transform.ProxyResponse is not null && !headers.ContainsKey(WorkerHeader) &&
            transform.HttpContext.GetReverseProxyFeature().ProxiedDestination is { } destination)
        {
            headers[WorkerHeader] = destination.DestinationId;
        }

        return default;
    }
}
