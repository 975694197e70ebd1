using System.Net;
using System.Threading.RateLimiting;
using Ecg2Af.Gateway.Observability;
using Ecg2Af.Gateway.Security;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// What protects the workers and the gateway: token buckets per API key or else per client IP (429), a whole-request deadline (504),
/// a body size limit (413) and a global concurrency cap (503). The first two are ASP.NET Core's own middleware,
/// attached to the proxied routes only (the web form, health and metrics are not limited).
/// </summary>
internal static class ProtectionExtensions
{
    public const string PerClientRateLimit = "per-client-ip";
    public const string RequestDeadline = "gateway-request";

    public static WebApplicationBuilder AddProtection(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddSingleton<IConfigureOptions<RateLimiterOptions>, ConfigureRateLimiter>();
        builder.Services.AddRequestTimeouts(_ => { });
        builder.Services.AddSingleton<IConfigureOptions<RequestTimeoutOptions>, ConfigureRequestTimeouts>();
        return builder;
    }

    /// <summary>After routing (the policies hang on the proxy endpoints) and after the client address is known.</summary>
    public static WebApplication UseProtection(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        return app;
    }

    /// <summary>Attaches the rate limit and the deadline to the proxied routes.</summary>
    public static TBuilder RequireProtection<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder
    {
        endpoints.RequireRateLimiting(PerClientRateLimit);
        endpoints.WithRequestTimeout(RequestDeadline);
        return endpoints;
    }

    private sealed class ConfigureRateLimiter(IOptions<RateLimitOptions> options, GatewayMetrics metrics) : IConfigureOptions<RateLimiterOptions>
    {
        public void Configure(RateLimiterOptions limiter)
        {
            var o = options.Value;
            var perClient = Bucket(o.TokenLimit, o.TokensPerPeriod, o.ReplenishmentPeriod);
            var perKey = Bucket(o.KeyTokenLimit, o.KeyTokensPerPeriod, o.ReplenishmentPeriod);

            // A verified key (ApiKeyMiddleware ran first) draws from its own bucket; anything else from its client
            // address's, resolved (trusted proxies only) by ClientAddressMiddleware.
            limiter.AddPolicy(PerClientRateLimit, context =>
            {
                if (!o.Enabled)
                {
                    return RateLimitPartition.GetNoLimiter("");
                }

                if (context.Features.Get<CallerKey>() is { } caller)
                {
                    return RateLimitPartition.GetTokenBucketLimiter("key:" + caller.Id,
                        _ => caller.Entry.RateLimit is { } own ? Bucket(own.Burst, own.PermitsPerSecond) : perKey);
                }

                var client = context.Connection.RemoteIpAddress ?? IPAddress.None;
                return RateLimitPartition.GetTokenBucketLimiter("ip:" + client, _ => perClient);
            });
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : o.ReplenishmentPeriod;
                metrics.Rejected(RejectionReason.RateLimited);
                var who = rejected.HttpContext.Features.Get<CallerKey>() is { } caller ? $"The API key '{caller.Id}'" : "This client address";
                await GatewayProblems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"{who} sent more requests than the gateway allows it; retry after {GatewayProblems.RetryAfterSeconds(wait)} s.",
                    wait);
            };
        }

        private static TokenBucketRateLimiterOptions Bucket(int burst, int tokens, TimeSpan period) => new()
        {
            TokenLimit = burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };

        /// <summary>A key's own limit: whole permits each second, or one permit every 1/rate seconds below 1 per second.</summary>
        private static TokenBucketRateLimiterOptions Bucket(int burst, double permitsPerSecond) => permitsPerSecond >= 1
            ? Bucket(burst, (int)Math.Round(permitsPerSecond), TimeSpan.FromSeconds(1))
            : Bucket(burst, 1, TimeSpan.FromSeconds(1 / permitsPerSecond));
    }

    private sealed class ConfigureRequestTimeouts(IOptions<LimitsOptions> options, GatewayMetrics metrics) : IConfigureOptions<RequestTimeoutOptions>
    {
        public void Configure(RequestTimeoutOptions timeouts)
        {
            var deadline = options.Value.RequestTimeout;
            timeouts.AddPolicy(RequestDeadline, new RequestTimeoutPolicy
            {
                Timeout = deadline,
                TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
                WriteTimeoutResponse = context =>
                {
                    metrics.Rejected(RejectionReason.TimedOut);
                    return DeadlinePassedAsync(context, deadline);
                },
            });
        }
    }

    /// <summary>504 ProblemDetails for a request whose deadline passed before any response byte was sent.</summary>
    public static Task DeadlinePassedAsync(HttpContext context, TimeSpan deadline) =>
        GatewayProblems.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "Request timed out",
            $"The request did not complete within the gateway's deadline of {deadline.TotalSeconds:0.###} s.");
}
