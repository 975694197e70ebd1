using System.Net;
using Ecg2Af.Client;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Load;

/// <summary>
/// The gRPC counterpart of <see cref="ClientPool"/>: one <see cref="Ecg2AfGrpcClient"/> (one channel, HTTP/2 streams
/// on its connection) per loopback source address, so the gateway's client-IP hash spreads gRPC callers over the
/// workers as it spreads REST ones. Each sends the API key as metadata and the request timeout as its gRPC deadline;
/// retries are off (the tool counts refusals, as it does for HTTP).
/// </summary>
public sealed class GrpcClientPool : IDisposable
{
    private readonly Ecg2AfGrpcClient[] _clients;

    public GrpcClientPool(Uri target, int count, TimeSpan requestTimeout, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Target = target;
        Addresses = Enumerable.Range(0, count).Select(LoopbackClients.Address).ToList();
        _clients = Addresses.Select(address =>
        {
            var handler = LoopbackClients.CreateHandler(address);
            handler.EnableMultipleHttp2Connections = true;
            return new Ecg2AfGrpcClient(
                new Ecg2AfClientOptions { BaseAddress = target, ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey, Deadline = requestTimeout, MaxRetries = 0 },
                handler);
        }).ToArray();
    }

    /// <summary>The gateway's gRPC address.</summary>
    public Uri Target { get; }

    public IReadOnlyList<IPAddress> Addresses { get; }

    public int Count => _clients.Length;

    public Ecg2AfGrpcClient this[int index] => _clients[index % _clients.Length];

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
