using System.Net;
using Ecg2Af.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace Ecg2Af.Gateway.Tests.Routing;

public class ClientIpHashPolicyTests
{
    private static readonly ClusterState Cluster = new("workers");
    private readonly ClientIpHashPolicy _policy = new();

    private static DestinationState[] Destinations(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new DestinationState($"worker-{i}"))];

    private static HttpContext Client(string ip) =>
        new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Parse(ip) } };

    private static IEnumerable<string> ClientIps(int count) =>
        Enumerable.Range(0, count).Select(i => $"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}");

    [Fact]
    public void PickDestination_NoDestinations_ReturnsNull()
    {
        Assert.Null(_policy.PickDestination(Client("10.0.0.1"), Cluster, []));
    }

    [Fact]
    public void PickDestination_SameClient_AlwaysSameDestinationWhateverTheListOrder()
    {
        var destinations = Destinations(5);
        var reversed = destinations.Reverse().ToArray();
        foreach (var ip in ClientIps(200))
        {
            var first = _policy.PickDestination(Client(ip), Cluster, destinations);
            Assert.Same(first, _policy.PickDestination(Client(ip), Cluster, destinations));
            Assert.Same(first, _policy.PickDestination(Client(ip), Cluster, reversed));
        }
    }

    [Fact]
    public void PickDestination_ManyClients_SpreadEvenlyWithin10Percent()
    {
        var destinations = Destinations(3);
        var counts = ClientIps(30_000)
            .GroupBy(ip => _policy.PickDestination(Client(ip), Cluster, destinations)!.DestinationId)
            .ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 9_000, 11_000));
    }

    [Fact]
    public void PickDestination_OneDestinationLeaves_OnlyItsClientsMove()
    {
        var all = Destinations(4);
        var without = all.Where(d => d.DestinationId != "worker-2").ToArray();
        var moved = 0;
        foreach (var ip in ClientIps(4000))
        {
            var before = _policy.PickDestination(Client(ip), Cluster, all)!;
            var after = _policy.PickDestination(Client(ip), Cluster, without)!;
            if (before.DestinationId != "worker-2")
            {
                Assert.Same(before, after);
            }
            else
            {
                moved++;
            }
        }

        Assert.InRange(moved, 800, 1200); // about a quarter of the clients, and no others
    }

    [Fact]
    public void PickDestination_Ipv4MappedIpv6_SameAsIpv4()
    {
        var destinations = Destinations(7);
        foreach (var ip in ClientIps(100))
        {
            var v4 = _policy.PickDestination(Client(ip), Cluster, destinations);
            var mapped = _policy.PickDestination(Client($"::ffff:{ip}"), Cluster, destinations);
            Assert.Same(v4, mapped);
        }
    }

    [Fact]
    public void PickDestination_FirstChoiceExcluded_GivesTheSecondRankedByScore()
    {
        // Failover asks again without the failed destination: the answer must be the client's second choice in
        // the full rendezvous ranking, whatever the order of the remaining list.
        var all = Destinations(5);
        foreach (var ip in ClientIps(500))
        {
            var key = ClientIpHashPolicy.ClientKey(IPAddress.Parse(ip));
            var ranking = all.OrderByDescending(d => ClientIpHashPolicy.Score(key, d.DestinationId)).ToArray();
            var first = _policy.PickDestination(Client(ip), Cluster, all)!;
            var rest = all.Where(d => d != first).ToArray();

            Assert.Same(ranking[0], first);
            Assert.Same(ranking[1], _policy.PickDestination(Client(ip), Cluster, rest));
            Assert.Same(ranking[1], _policy.PickDestination(Client(ip), Cluster, rest.Reverse().ToArray()));
        }
    }

    [Fact]
    public void PickDestination_Ipv6Client_FullAddressHashed()
    {
        // Unlike nginx ip_hash (first three IPv4 octets), neighbours in one /24 or /64 still spread.
        var destinations = Destinations(3);
        var picked = Enumerable.Range(1, 60)
            .Select(i => _policy.PickDestination(Client($"2001:db8::{i:x}"), Cluster, destinations)!.DestinationId)
            .Distinct()
            .Count();

        Assert.Equal(3, picked);
    }

    [Fact]
    public void Score_IsStableAcrossProcesses()
    {
        // XXH64 (seed 0) of 192.0.2.7, 0x1f, "worker-1", computed by an independent implementation of the XXH64
        // specification: a process-randomised hash (string.GetHashCode) would fail this and move clients on restart.
        var key = ClientIpHashPolicy.ClientKey(IPAddress.Parse("192.0.2.7"));
        Assert.Equal(ClientIpHashPolicy.Score(key, "worker-1"), ClientIpHashPolicy.Score([192, 0, 2, 7], "worker-1"));
        Assert.NotEqual(ClientIpHashPolicy.Score(key, "worker-1"), ClientIpHashPolicy.Score(key, "worker-2"));
        Assert.Equal(0xad96be81cd79d2a1UL, ClientIpHashPolicy.Score(key, "worker-1"));
    }
}
