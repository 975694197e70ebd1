using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Ecg2Af.Gateway.Discovery;

internal static class DiscoveryExtensions
{
    /// <summary>Destinations come from configuration; with <c>Gateway:Dns:Enabled</c> host names are expanded per address.</summary>
    public static IReverseProxyBuilder AddWorkerDiscovery(this IReverseProxyBuilder proxy, IConfiguration configuration)
    {
        proxy.Services.AddOptions<DnsOptions>().BindConfiguration(DnsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (configuration.GetSection(DnsOptions.Section).GetValue<bool>(nameof(DnsOptions.Enabled)))
        {
            proxy.Services.AddSingleton<IDestinationResolver>(s => new WorkerDnsResolver(
                s.GetRequiredService<IOptionsMonitor<DnsOptions>>(),
                s.GetRequiredService<ILogger<WorkerDnsResolver>>(),
                s.GetRequiredService<TimeProvider>()));
        }

        return proxy;
    }
}
