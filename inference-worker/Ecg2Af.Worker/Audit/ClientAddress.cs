using System.Net;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// The original client's address: the connection's remote address, or, when that is a trusted proxy (the gateway),
/// the right-most <c>X-Forwarded-For</c> entry that is not itself a trusted proxy. A client that is not a trusted
/// proxy cannot choose what is recorded by sending the header itself.
/// </summary>
internal sealed class ClientAddress
{
    private readonly IPNetwork[] _trusted;

    public ClientAddress(IEnumerable<string> trustedProxies)
    {
        _trusted =
        [
            new IPNetwork(IPAddress.Loopback, 32),
            new IPNetwork(IPAddress.IPv6Loopback, 128),
            .. trustedProxies.Select(p => IPAddress.TryParse(p, out var ip)
                ? new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
                : IPNetwork.Parse(p)),
        ];
    }

    public IPAddress? Resolve(IPAddress? remote, IEnumerable<string?> forwardedFor)
    {
        if (remote is null)
        {
            return null;
        }

        var client = Normalize(remote);
        if (!IsTrusted(client))
        {
            return client;
        }

        var hops = forwardedFor.Where(v => v is not null).SelectMany(v => v!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        for (var i = hops.Count - 1; i >= 0; i--)
        {
            if (!TryParse(hops[i], out var hop))
            {
                break; // a malformed entry: nothing left of it can be believed
            }

            client = hop;
            if (!IsTrusted(hop))
            {
                break;
            }
        }

        return client;
    }

    /// <summary>True when the connection comes from a trusted proxy (the gateway): its forwarded headers are believed.</summary>
    public bool IsTrustedPeer(IPAddress? remote) => remote is not null && IsTrusted(Normalize(remote));

    private bool IsTrusted(IPAddress address) => _trusted.Any(n => n.Contains(address));

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool TryParse(string value, out IPAddress address)
    {
        if (IPAddress.TryParse(value, out var ip) || (IPEndPoint.TryParse(value, out var endpoint) && (ip = endpoint.Address) is not null))
        {
            address = Normalize(ip);
            return true;
        }

        address = IPAddress.None;
        return false;
    }
}
