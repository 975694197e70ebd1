using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// YARP's client factory with a bounded TCP connect (<see cref="FailoverOptions.ConnectTimeout"/>); SocketsHttpHandler
/// waits indefinitely by default. Used for forwarding and for the active health probes.
/// </summary>
internal sealed class WorkerHttpClientFactory(IOptions<FailoverOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = options.Value.ConnectTimeout;
    }
}
