using Ecg2Af.Gateway.Discovery;
using Ecg2Af.Gateway.Observability;
using Ecg2Af.Gateway.Protection;
using Ecg2Af.Gateway.Security;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Ecg2Af.Gateway.Routing;

internal static class RoutingExtensions
{
    /// <summary>
    /// YARP from the <c>ReverseProxy</c> section, with the client-IP rendezvous policy, the FailureRate passive
    /// health policy, failover, and destinations from configuration or DNS.
    /// </summary>
    public static WebApplicationBuilder AddWorkerRouting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FailoverOptions>().BindConfiguration(FailoverOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PassiveHealthOptions>().BindConfiguration(PassiveHealthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ILoadBalancingPolicy, ClientIpHashPolicy>();
        builder.Services.AddSingleton<IPassiveHealthCheckPolicy, FailureRateHealthPolicy>();
        builder.Services.AddSingleton<FailoverPipeline>();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<DestinationHealthMetrics>();
        builder.Services.AddSingleton<ClientSpread>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, WorkerHttpClientFactory>();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(FailoverTransforms.Apply)
            .AddTransforms(SecurityExtensions.ForwardIdentity)
            .AddWorkerDiscovery(builder.Configuration);
        return builder;
    }

    /// <summary>The proxied routes (<c>/api/**</c>, <c>/v2/**</c>) with their protection and YARP pipeline.</summary>
    public static WebApplication MapWorkerProxy(this WebApplication app)
    {
        // Scrapes read destination health from YARP's live state.
        app.Services.GetRequiredService<DestinationHealthMetrics>();
        app.Services.GetRequiredService<ClientSpread>();

        // Order matters: cap concurrency, then buffer the body (413 before any worker sees it), then one or more
        // attempts, each picking a destination, forwarding and reporting to passive health.
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ConcurrencyLimitMiddleware>();
            proxy.UseMiddleware<RequestBufferingMiddleware>();
            proxy.UseMiddleware<FailoverMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).RequireProtection();
        return app;
    }
}
