using System.Net;
using System.Threading.RateLimiting;
using Ecg2Af.Gateway.Observability;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// What protects the workers and the gateway: a per-client-IP token bucket (429), a whole-request deadline (504),
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
            var bucket = new TokenBucketRateLimiterOptions
            {
                TokenLimit = o.TokenLimit,
                TokensPerPeriod = o.TokensPerPeriod,
                ReplenishmentPeriod = o.ReplenishmentPeriod,
                QueueLimit = 0,
                AutoReplenishment = true,
            };

            // The client address was resolved (trusted proxies only) by ClientAddressMiddleware.
            limiter.AddPolicy(PerClientRateLimit, context =>
            {
                var client = context.Connection.RemoteIpAddress ?? IPAddress.None;
                return o.Enabled
                    ? RateLimitPartition.GetTokenBucketLimiter(client, _ => bucket)
                    : RateLimitPartition.GetNoLimiter(client);
            });
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : o.ReplenishmentPeriod;
                metrics.Rejected(RejectionReason.RateLimited);
                await GatewayProblems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"This client sent more requests than the gateway allows ({o.TokensPerPeriod} per {o.ReplenishmentPeriod.TotalSeconds:0.###} s, bursts of {o.TokenLimit}); retry after {GatewayProblems.RetryAfterSeconds(wait)} s.",
                    wait);
            };
        }
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
