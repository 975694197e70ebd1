using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Prometheus;

namespace Ecg2Af.Gateway.Observability;

/// <summary>
/// How the client-IP hashing spreads clients over the workers: <c>ecg2af_gateway_active_clients{destination}</c>,
/// the distinct client addresses each destination served within the last <see cref="Window"/>. Addresses stay in
/// this process (as 128-bit keys, bounded per destination) and are never exported: the series carry counts only.
/// </summary>
internal sealed class ClientSpread
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Most addresses remembered per destination; beyond it the gauge saturates rather than memory growing.</summary>
    private const int MaxClientsPerDestination = 100_000;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<UInt128, long>> _seen = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    private readonly Gauge _activeClients = Metrics.CreateGauge(
        "ecg2af_gateway_active_clients",
        "Distinct client addresses routed to each destination in the last minute (counts only; addresses are never exported).",
        "destination");

    public ClientSpread(TimeProvider time)
    {
        _time = time;
        Metrics.DefaultRegistry.AddBeforeCollectCallback(Update);
    }

    /// <summary>Notes that <paramref name="client"/> was served by <paramref name="destination"/> now.</summary>
    public void Served(string destination, IPAddress? client)
    {
        if (client is null)
        {
            return;
        }

        var clients = _seen.GetOrAdd(destination, _ => new ConcurrentDictionary<UInt128, long>());
        var key = Key(client);
        if (clients.Count < MaxClientsPerDestination || clients.ContainsKey(key))
        {
            clients[key] = _time.GetTimestamp();
        }
    }

    /// <summary>Drops addresses not seen within the window and publishes the counts (runs before every scrape).</summary>
    public void Update()
    {
        lock (_gate)
        {
            var oldest = _time.GetTimestamp() - (long)(Window.TotalSeconds * _time.TimestampFrequency);
            foreach (var (destination, clients) in _seen)
            {
                foreach (var (key, lastSeen) in clients)
                {
                    if (lastSeen < oldest)
                    {
                        clients.TryRemove(key, out _);
                    }
                }

                if (clients.IsEmpty)
                {
                    _seen.TryRemove(destination, out _);
                    _activeClients.RemoveLabelled(destination);
                }
                else
                {
                    _activeClients.WithLabels(destination).Set(clients.Count);
                }
            }
        }
    }

    private static UInt128 Key(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.MapToIPv6().TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
