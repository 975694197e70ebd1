using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Ecg2Af.Gateway.Observability;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Ecg2Af.Gateway.Discovery;

/// <summary>
/// Expands each destination whose address names a host into one destination per resolved address, with the id
/// <c>&lt;configured id&gt;[&lt;address&gt;]</c>: it depends only on the address, never on the order DNS returned
/// them in, so the rendezvous hash keeps every client on its worker across refreshes and gateway instances. IP
/// literals pass through unchanged. When a lookup fails the last good answer is kept (YARP's own DNS resolver
/// fails the whole configuration instead, which at start-up means a gateway that cannot start before its workers).
/// </summary>
internal sealed class WorkerDnsResolver(
    IOptionsMonitor<DnsOptions> options,
    ILogger<WorkerDnsResolver> logger,
    TimeProvider time,
    Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>>? lookup = null) : IDestinationResolver
{
    private readonly Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> _lookup = lookup ?? Dns.GetHostAddressesAsync;
    private readonly ConcurrentDictionary<(string Id, string Address), IPAddress[]> _lastKnown = new();

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var expansions = await Task.WhenAll(destinations.Select(d => ExpandAsync(d.Key, d.Value, settings.AddressFamily, cancellationToken)));
        foreach (var expansion in expansions)
        {
            foreach (var (id, config) in expansion)
            {
                resolved[id] = config;
            }
        }

        var refresh = new CancellationTokenSource(settings.RefreshPeriod, time);
        return new ResolvedDestinationCollection(resolved, new CancellationChangeToken(refresh.Token));
    }

    /// <summary>The id a resolved address gets: stable for the same configured id and address.</summary>
    internal static string ResolvedId(string configuredId, IPAddress address) => $"{configuredId}[{address}]";

    private async Task<List<(string Id, DestinationConfig Config)>> ExpandAsync(
        string id, DestinationConfig config, AddressFamily family, CancellationToken cancellationToken)
    {
        var uri = new Uri(config.Address);
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return [(id, config)];
        }

        IPAddress[] addresses;
        try
        {
            addresses = await _lookup(uri.DnsSafeHost, family, cancellationToken);
            addresses = [.. addresses.Distinct().Order(AddressOrder.Instance)];
            if (!_lastKnown.TryGetValue((id, config.Address), out var previous) || !previous.SequenceEqual(addresses))
            {
                logger.DnsResolved(id, uri.DnsSafeHost, string.Join(", ", addresses.Select(a => a.ToString())));
            }

            _lastKnown[(id, config.Address)] = addresses;
        }
        catch (SocketException e)
        {
            addresses = _lastKnown.GetValueOrDefault((id, config.Address)) ?? [];
            logger.DnsLookupFailed(e, uri.DnsSafeHost, id, addresses.Length);
        }

        // The worker is still asked for by name (Host header), as it would be without the gateway.
        var host = config.Host is { Length: > 0 } configuredHost ? configuredHost : uri.Authority;
        return [.. addresses.Select(a => (ResolvedId(id, a), config with
        {
            Address = WithHost(config.Address, a),
            Health = config.Health is { Length: > 0 } health ? WithHost(health, a) : config.Health,
            Host = host,
        }))];
    }

    private static string WithHost(string address, IPAddress ip) => new UriBuilder(address) { Host = ip.ToString() }.Uri.ToString();

    /// <summary>Orders addresses by family and bytes, so logs and comparisons do not depend on DNS answer order.</summary>
    private sealed class AddressOrder : IComparer<IPAddress>
    {
        public static readonly AddressOrder Instance = new();

        public int Compare(IPAddress? x, IPAddress? y)
        {
            var family = (x?.AddressFamily ?? 0).CompareTo(y?.AddressFamily ?? 0);
            return family != 0 ? family : (x?.GetAddressBytes() ?? []).AsSpan().SequenceCompareTo(y?.GetAddressBytes() ?? []);
        }
    }
}
