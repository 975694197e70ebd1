using Yarp.ReverseProxy.LoadBalancing;

namespace Ecg2Af.Gateway.Routing;

internal static class RoutingExtensions
{
    /// <summary>YARP from the <c>ReverseProxy</c> section, with the client-IP rendezvous hashing policy.</summary>
    public static WebApplicationBuilder AddWorkerRouting(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ILoadBalancingPolicy, ClientIpHashPolicy>();
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        return builder;
    }
}
