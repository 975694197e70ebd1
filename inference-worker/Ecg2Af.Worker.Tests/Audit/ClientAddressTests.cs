using System.Net;
using Ecg2Af.Worker.Audit;

namespace Ecg2Af.Worker.Tests.Audit;

public class ClientAddressTests
{
    private static readonly ClientAddress Loopback = new([]);

    [Fact]
    public void Resolve_DirectClient_RemoteAddressAndForwardedForIgnored() =>
        Assert.Equal("127.0.1.7", Loopback.Resolve(IPAddress.Parse("127.0.1.7"), ["203.0.113.9"])!.ToString());

    [Fact]
    public void Resolve_ThroughLocalGateway_ForwardedClient() =>
        Assert.Equal("203.0.113.9", Loopback.Resolve(IPAddress.Loopback, ["203.0.113.9"])!.ToString());

    [Fact]
    public void Resolve_SpoofedEntryBeforeGateway_RightMostUntrustedWins() =>
        Assert.Equal("198.51.100.4", Loopback.Resolve(IPAddress.Loopback, ["10.0.0.1, 198.51.100.4"])!.ToString());

    [Fact]
    public void Resolve_ConfiguredProxyChain_SkipsTrustedHops()
    {
        var proxies = new ClientAddress(["10.20.0.0/16"]);

        Assert.Equal("198.51.100.4", proxies.Resolve(IPAddress.Parse("10.20.1.1"), ["198.51.100.4", "10.20.3.3"])!.ToString());
    }

    [Fact]
    public void Resolve_MappedIpv4Loopback_TreatedAsLoopback() =>
        Assert.Equal("203.0.113.9", Loopback.Resolve(IPAddress.Loopback.MapToIPv6(), ["203.0.113.9"])!.ToString());

    [Fact]
    public void Resolve_GarbageForwardedFor_FallsBackToProxy() =>
        Assert.Equal("127.0.0.1", Loopback.Resolve(IPAddress.Loopback, ["not-an-address"])!.ToString());
}
