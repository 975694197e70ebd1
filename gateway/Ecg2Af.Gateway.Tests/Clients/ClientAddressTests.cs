using System.Net;
using Ecg2Af.Gateway.Clients;
using Microsoft.AspNetCore.Http;

namespace Ecg2Af.Gateway.Tests.Clients;

public class ClientAddressTests
{
    private static readonly IPAddress Proxy = IPAddress.Parse("10.0.0.2");

    private static TrustedProxies Trusting(int forwardLimit = 1, params string[] proxies) =>
        new(proxies.Select(p => TrustedProxies.TryParse(p)!.Value), forwardLimit);

    private static IPAddress? Resolve(string peer, TrustedProxies trusted, params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }

        return ClientAddress.Resolve(IPAddress.Parse(peer), dictionary, trusted);
    }

    [Fact]
    public void Resolve_NoTrustedProxies_IgnoresForwardedHeaders()
    {
        var client = Resolve("198.51.100.7", Trusting(), ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.10"));

        Assert.Equal(IPAddress.Parse("198.51.100.7"), client);
    }

    [Fact]
    public void Resolve_UntrustedPeer_SpoofedHeaderIgnored()
    {
        var client = Resolve("198.51.100.7", Trusting(1, "10.0.0.0/8"), ("X-Forwarded-For", "203.0.113.9"));

        Assert.Equal(IPAddress.Parse("198.51.100.7"), client);
    }

    [Fact]
    public void Resolve_TrustedProxyXForwardedFor_TakesRightmostEntry()
    {
        // The leftmost entry is whatever the client claimed; only the hop the trusted proxy added counts.
        var client = Resolve("10.0.0.2", Trusting(1, "10.0.0.0/8"), ("X-Forwarded-For", "192.0.2.66, 203.0.113.9"));

        Assert.Equal(IPAddress.Parse("203.0.113.9"), client);
    }

    [Fact]
    public void Resolve_TwoTrustedHopsWithinLimit_WalksToTheFirstUntrusted()
    {
        var client = Resolve("10.0.0.2", Trusting(3, "10.0.0.0/8"), ("X-Forwarded-For", "192.0.2.66, 203.0.113.9, 10.1.1.1"));

        Assert.Equal(IPAddress.Parse("203.0.113.9"), client);
    }

    [Fact]
    public void Resolve_ForwardLimitOne_StopsAfterOneHopEvenIfItIsTrusted()
    {
        var client = Resolve("10.0.0.2", Trusting(1, "10.0.0.0/8"), ("X-Forwarded-For", "203.0.113.9, 10.1.1.1"));

        Assert.Equal(IPAddress.Parse("10.1.1.1"), client);
    }

    [Fact]
    public void Resolve_Rfc7239Forwarded_QuotedIpv6WithPortAndOtherParameters()
    {
        var client = Resolve("10.0.0.2", Trusting(1, "10.0.0.2"),
            ("Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\";proto=https"));

        Assert.Equal(IPAddress.Parse("2001:db8:cafe::17"), client);
    }

    [Fact]
    public void Resolve_ForwardedAndXForwardedFor_ForwardedWins()
    {
        var client = Resolve("10.0.0.2", Trusting(1, "10.0.0.2"), ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "For=\"192.0.2.43:47011\""));

        Assert.Equal(IPAddress.Parse("192.0.2.43"), client);
    }

    [Theory]
    [InlineData("for=unknown")]
    [InlineData("for=_hidden")]
    [InlineData("proto=https")]
    [InlineData("for=\"not an address\"")]
    public void Resolve_UnusableForwardedHop_StaysWithTheTrustedPeer(string forwarded)
    {
        var client = Resolve("10.0.0.2", Trusting(1, "10.0.0.2"), ("Forwarded", forwarded));

        Assert.Equal(Proxy, client);
    }

    [Fact]
    public void Resolve_Ipv4MappedPeerAndHop_FoldedToIpv4()
    {
        var client = Resolve("::ffff:10.0.0.2", Trusting(1, "10.0.0.2"), ("X-Forwarded-For", "::ffff:203.0.113.9"));

        Assert.Equal(IPAddress.Parse("203.0.113.9"), client);
    }

    [Theory]
    [InlineData("10.0.0.7", true)]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("fd00::/8", true)]
    [InlineData("::1", true)]
    [InlineData("10.0.0.0/33", false)]
    [InlineData("gateway.local", false)]
    public void TryParse_AddressesAndNetworks(string value, bool valid)
    {
        Assert.Equal(valid, TrustedProxies.TryParse(value) is not null);
    }

    [Theory]
    [InlineData("203.0.113.9:8080", "203.0.113.9")]
    [InlineData("[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    public void Node_WithAndWithoutPorts(string node, string expected)
    {
        Assert.Equal(IPAddress.Parse(expected), ForwardedHeader.Node(node));
    }
}
