using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net;
using System.Text;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// Rendezvous (highest-random-weight) hashing of the client IP over the destinations YARP considers available
/// (healthy). Each client goes to the destination whose 64-bit hash of (client IP, destination id) is highest, so
/// when one destination leaves or returns only its own clients move, and every gateway instance makes the same
/// choice. XxHash64 is stable across processes, unlike <see cref="string.GetHashCode()"/>.
/// </summary>
internal sealed class ClientIpHashPolicy : ILoadBalancingPolicy
{
    public string Name => GatewayPolicies.ClientIpHash;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0)
        {
            return null;
        }

        var key = ClientKey(context.Connection.RemoteIpAddress);
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

    /// <summary>The bytes that identify a client: its address with IPv4-mapped IPv6 folded to IPv4.</summary>
    internal static byte[] ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return [];
        }

        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).GetAddressBytes();
    }

    /// <summary>XxHash64 over the client key, a separator and the destination id (UTF-8).</summary>
    internal static ulong Score(ReadOnlySpan<byte> clientKey, string destinationId)
    {
        var idLength = Encoding.UTF8.GetByteCount(destinationId);
        Span<byte> buffer = stackalloc byte[clientKey.Length + 1 + idLength];
        clientKey.CopyTo(buffer);
        buffer[clientKey.Length] = 0x1f;
        Encoding.UTF8.GetBytes(destinationId, buffer[(clientKey.Length + 1)..]);
        return BinaryPrimitives.ReadUInt64BigEndian(XxHash64.Hash(buffer));
    }
}
