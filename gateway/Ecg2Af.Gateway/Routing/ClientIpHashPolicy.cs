using System.IO.Hashing;
using System.Net;
using System.Text;
using Ecg2Af.Gateway.Clients;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// Rendezvous (highest-random-weight) hashing of the client IP over the destinations YARP considers available
/// (healthy). Each client goes to the destination whose 64-bit XxHash64 of (client address bytes, 0x1F, destination
/// id) is highest. Only the ids matter, never the list order, so every gateway instance makes the same choice, and
/// when a destination leaves or returns only its own clients move. Failover asks again without the failed
/// destination and so gets the client's next-ranked destination. XxHash64 is stable across processes, unlike
/// <see cref="string.GetHashCode()"/>.
/// </summary>
internal sealed class ClientIpHashPolicy : ILoadBalancingPolicy
{
    private const byte Separator = 0x1f;

    public string Name => GatewayPolicies.ClientIpHash;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0)
        {
            return null;
        }

        Span<byte> key = stackalloc byte[16];
        key = key[..WriteClientKey(context.Connection.RemoteIpAddress, key)];
        DestinationState? best = null;
        ulong bestScore = 0;
        foreach (var destination in availableDestinations)
        {
            var score = Score(key, destination.DestinationId);
            // Ties (practically impossible) break on the id so the choice never depends on list order.
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(destination.DestinationId, best.DestinationId) > 0))
            {
                best = destination;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>The bytes that identify a client: its address with IPv4-mapped IPv6 folded to IPv4 (4 or 16 bytes; none when unknown).</summary>
    internal static byte[] ClientKey(IPAddress? address)
    {
        Span<byte> key = stackalloc byte[16];
        return key[..WriteClientKey(address, key)].ToArray();
    }

    private static int WriteClientKey(IPAddress? address, Span<byte> destination) =>
        ClientAddress.Normalize(address) is { } normalized && normalized.TryWriteBytes(destination, out var written) ? written : 0;

    /// <summary>XxHash64 (seed 0) over the client key, 0x1F and the destination id in UTF-8.</summary>
    internal static ulong Score(ReadOnlySpan<byte> clientKey, string destinationId)
    {
        var length = clientKey.Length + 1 + Encoding.UTF8.GetByteCount(destinationId);
        Span<byte> buffer = length <= 256 ? stackalloc byte[length] : new byte[length];
        clientKey.CopyTo(buffer);
        buffer[clientKey.Length] = Separator;
        Encoding.UTF8.GetBytes(destinationId, buffer[(clientKey.Length + 1)..]);
        return XxHash64.HashToUInt64(buffer);
    }
}
