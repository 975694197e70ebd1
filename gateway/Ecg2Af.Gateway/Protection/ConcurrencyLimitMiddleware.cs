using System.Threading.RateLimiting;
using Ecg2Af.Gateway.Observability;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// The global cap on proxied requests in progress. Over the cap (and the optional queue) the gateway answers 503
/// with Retry-After: the gateway is busy, not the client at fault, so it is not a 429.
/// </summary>
internal sealed class ConcurrencyLimitMiddleware : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly GatewayMetrics _metrics;
    private readonly ConcurrencyLimiter _limiter;

    public ConcurrencyLimitMiddleware(RequestDelegate next, IOptions<LimitsOptions> options, GatewayMetrics metrics)
    {
        _next = next;
        _metrics = metrics;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.MaxConcurrentRequests,
            QueueLimit = options.Value.ConcurrencyQueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public async Task InvokeAsync(HttpContext context)
    {
        using var lease = await _limiter.AcquireAsync(1, context.RequestAborted);
        if (!lease.IsAcquired)
        {
            _metrics.Rejected(RejectionReason.ConcurrencyLimited);
            await GatewayProblems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Gateway busy",
                "The gateway is handling as many requests as it is configured for; retry shortly.", TimeSpan.FromSeconds(1));
            return;
        }

        _metrics.InFlight.Inc();
        try
        {
            await _next(context);
        }
        finally
        {
            _metrics.InFlight.Dec();
        }
    }

    public void Dispose() => _limiter.Dispose();
}
