using System.Net;
using System.Net.Sockets;
using Ecg2Af.Gateway.Discovery;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;

namespace Ecg2Af.Gateway.Tests.Discovery;

public class WorkerDnsResolverTests
{
    private readonly FakeTimeProvider _time = new();

    private WorkerDnsResolver Resolver(Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> lookup, AddressFamily family = AddressFamily.Unspecified) =>
        new(new StaticOptions(new DnsOptions { Enabled = true, RefreshPeriod = TimeSpan.FromSeconds(5), AddressFamily = family }),
            NullLogger<WorkerDnsResolver>.Instance, _time, lookup);

    private static Dictionary<string, DestinationConfig> Destinations(params (string Id, string Address)[] destinations) =>
        destinations.ToDictionary(d => d.Id, d => new DestinationConfig { Address = d.Address });

    private static Task<IPAddress[]> Answer(params string[] addresses) => Task.FromResult(addresses.Select(IPAddress.Parse).ToArray());

    [Fact]
    public async Task Resolve_ServiceName_OneDestinationPerAddressWithHostKept()
    {
        var resolver = Resolver((host, _, _) => host == "inference-worker" ? Answer("172.18.0.5", "172.18.0.4") : throw new SocketException());

        var result = await resolver.ResolveDestinationsAsync(Destinations(("inference-worker", "http://inference-worker:8080/")), default);

        Assert.Equal(["inference-worker[172.18.0.4]", "inference-worker[172.18.0.5]"], result.Destinations.Keys.Order(StringComparer.Ordinal));
        var first = result.Destinations["inference-worker[172.18.0.4]"];
        Assert.Equal("http://172.18.0.4:8080/", first.Address);
        Assert.Equal("inference-worker:8080", first.Host);
    }

    [Fact]
    public async Task Resolve_AnswerOrderChanges_SameIdsAndAddresses()
    {
        var answers = new Queue<string[]>([["10.0.0.1", "10.0.0.2", "10.0.0.3"], ["10.0.0.3", "10.0.0.1", "10.0.0.2"]]);
        var resolver = Resolver((_, _, _) => Answer(answers.Dequeue()));
        var destinations = Destinations(("w", "http://workers:80/"));

        var first = await resolver.ResolveDestinationsAsync(destinations, default);
        var second = await resolver.ResolveDestinationsAsync(destinations, default);

        Assert.Equal(first.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal), second.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Resolve_IpLiteral_PassesThroughUnderItsConfiguredId()
    {
        var resolver = Resolver((_, _, _) => throw new InvalidOperationException("no lookup for literals"));

        var result = await resolver.ResolveDestinationsAsync(Destinations(("worker-0", "http://127.0.0.1:5001/"), ("worker-1", "http://[::1]:5002/")), default);

        Assert.Equal(["worker-0", "worker-1"], result.Destinations.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("http://127.0.0.1:5001/", result.Destinations["worker-0"].Address);
    }

    [Fact]
    public async Task Resolve_LookupFails_KeepsLastKnownAddresses()
    {
        var fail = false;
        var resolver = Resolver((_, _, _) => fail ? throw new SocketException((int)SocketError.HostNotFound) : Answer("10.0.0.1", "10.0.0.2"));
        var destinations = Destinations(("w", "http://workers:80/"));
        await resolver.ResolveDestinationsAsync(destinations, default);

        fail = true;
        var result = await resolver.ResolveDestinationsAsync(destinations, default);

        Assert.Equal(["w[10.0.0.1]", "w[10.0.0.2]"], result.Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Resolve_Ipv6Address_BracketedInTheUrl()
    {
        var resolver = Resolver((_, _, _) => Answer("fd00::5"));

        var result = await resolver.ResolveDestinationsAsync(Destinations(("w", "http://workers:8080/")), default);

        Assert.Equal("http://[fd00::5]:8080/", result.Destinations["w[fd00::5]"].Address);
    }

    [Fact]
    public async Task Resolve_PassesTheConfiguredAddressFamily()
    {
        AddressFamily? asked = null;
        var resolver = Resolver((_, family, _) => { asked = family; return Answer("127.0.0.1"); }, AddressFamily.InterNetwork);

        await resolver.ResolveDestinationsAsync(Destinations(("w", "http://localhost:1/")), default);

        Assert.Equal(AddressFamily.InterNetwork, asked);
    }

    [Fact]
    public async Task Resolve_ChangeToken_FiresAfterTheRefreshPeriod()
    {
        var resolver = Resolver((_, _, _) => Answer("10.0.0.1"));
        var result = await resolver.ResolveDestinationsAsync(Destinations(("w", "http://workers:80/")), default);

        Assert.False(result.ChangeToken!.HasChanged);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(result.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task Resolve_Localhost_RealDnsGivesLoopback()
    {
        var resolver = new WorkerDnsResolver(new StaticOptions(new DnsOptions { Enabled = true, AddressFamily = AddressFamily.InterNetwork }),
            NullLogger<WorkerDnsResolver>.Instance, TimeProvider.System);

        var result = await resolver.ResolveDestinationsAsync(Destinations(("w", "http://localhost:5000/")), default);

        Assert.Equal("http://127.0.0.1:5000/", Assert.Single(result.Destinations).Value.Address);
    }

    private sealed class StaticOptions(DnsOptions value) : IOptionsMonitor<DnsOptions>
    {
        public DnsOptions CurrentValue => value;

        public DnsOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<DnsOptions, string?> listener) => null;
    }
}
