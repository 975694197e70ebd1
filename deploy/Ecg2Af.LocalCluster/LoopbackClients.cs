using System.Net;
using System.Net.Sockets;

namespace Ecg2Af.LocalCluster;

/// <summary>
/// HTTP clients whose connections leave from a chosen loopback address (any 127.x.y.z is local on Linux), so one
/// test process looks like many users to the gateway's client-IP hashing.
/// </summary>
public static class LoopbackClients
{
    /// <summary>The <paramref name="index"/>-th client address: 127.0.1.1, 127.0.1.2, … (skipping .0 and .255).</summary>
    public static IPAddress Address(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var n = index % 254;
        var hi = 1 + (index / 254);
        return new IPAddress([127, (byte)(hi / 256), (byte)(hi % 256), (byte)(n + 1)]);
    }

    /// <summary>A client whose every connection is bound to <paramref name="source"/>.</summary>
    public static HttpClient Create(IPAddress source, TimeSpan? timeout = null, int maxConnections = 16) =>
        new(CreateHandler(source, maxConnections)) { Timeout = timeout ?? TimeSpan.FromSeconds(100) };

    /// <summary>A handler whose every connection is bound to <paramref name="source"/> (for example under a gRPC channel).</summary>
    public static SocketsHttpHandler CreateHandler(IPAddress source, int maxConnections = 16)
    {
        return new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
    }
}
