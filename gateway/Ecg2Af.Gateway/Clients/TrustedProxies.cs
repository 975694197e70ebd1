using System.Net;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.Clients;

/// <summary>The configured trusted proxies, parsed once.</summary>
internal sealed class TrustedProxies
{
    private readonly IPNetwork[] _networks;

    public TrustedProxies(IOptions<ClientAddressOptions> options)
        : this(options.Value.TrustedProxies.Select(p => TryParse(p) ?? throw new FormatException($"'{p}' is not an address or CIDR network.")), options.Value.ForwardLimit)
    {
    }

    internal TrustedProxies(IEnumerable<IPNetwork> networks, int forwardLimit)
    {
        _networks = [.. networks];
        ForwardLimit = forwardLimit;
    }

    public bool IsEmpty => _networks.Length == 0;

    public int ForwardLimit { get; }

    public bool Contains(IPAddress address)
    {
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An address (as a single-address network) or a CIDR network; null when it is neither.</summary>
    public static IPNetwork? TryParse(string value)
    {
        if (IPNetwork.TryParse(value, out var network))
        {
            return network;
        }

        if (IPAddress.TryParse(value, out var address))
        {
            address = ClientAddress.Normalize(address)!;
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }

        return null;
    }
}
