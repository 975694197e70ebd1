using System.Net;
using System.Net.Sockets;
using Ecg2Af.LocalCluster;
using Xunit.Abstractions;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// A worker address that never completes a TCP connection (a host dropping packets, a full accept queue): the
/// gateway gives up on the connect after <c>Gateway:Failover:ConnectTimeout</c> and serves the client from its
/// next-ranked worker, instead of holding the request until the request timeout.
/// </summary>
[Collection(ClusterCollection.Name)]
public class ConnectTimeoutTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const string Stalled = "stalled";

    [Fact]
    public async Task DestinationThatNeverAcceptsTheConnection_ItsClientsAreServedByTheirNextWorker()
    {
        using var stalled = new StalledListener();
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            [LocalCluster.LocalCluster.DestinationAddressKey(Stalled)] = stalled.Url.ToString(),
            ["Gateway__Failover__ConnectTimeout"] = "00:00:00.500",
            // Neither health check may take the stalled destination out first: every first attempt on it must fail over.
            ["ReverseProxy__Clusters__workers__HealthCheck__Active__Enabled"] = "false",
            ["ReverseProxy__Clusters__workers__HealthCheck__Passive__Enabled"] = "false",
        });

        var clients = fixture.Clients.Take(40).ToArray();
        var round = await Load.RoundAsync(clients, gateway.Url, Load.PreprocessMv, parallel: 40);

        var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
        var retried = metrics.Value("ecg2af_gateway_retries_total", ("destination", Stalled), ("reason", "transport"));
        output.WriteLine($"{retried} of {clients.Length} clients ranked the stalled destination first and were served by their next worker");
        Assert.Empty(round.Failures);
        Assert.DoesNotContain(Stalled, round.Workers);
        Assert.InRange(retried, 1, clients.Length);
        Assert.Equal(retried, metrics.Value("ecg2af_gateway_upstream_errors_total", ("destination", Stalled)));
    }

    /// <summary>
    /// A loopback listener with a backlog of one whose queue is filled and never accepted: Linux then drops further
    /// SYNs, so a connect hangs as it would to a host that is gone.
    /// </summary>
    private sealed class StalledListener : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _filling = [];

        public StalledListener()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(0);
            var endpoint = (IPEndPoint)_listener.LocalEndPoint!;
            Url = new Uri($"http://127.0.0.1:{endpoint.Port}/");
            for (var i = 0; i < 2; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _filling.Add(socket);
                _ = socket.ConnectAsync(endpoint); // the first fills the queue; later ones stay pending
            }

            // The premise, checked: one more connect does not complete.
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var connect = probe.ConnectAsync(endpoint);
            if (connect.Wait(TimeSpan.FromMilliseconds(300)))
            {
                throw new InvalidOperationException("The kernel accepted a connection beyond the full backlog; the test's premise does not hold here.");
            }
        }

        public Uri Url { get; }

        public void Dispose()
        {
            foreach (var socket in _filling)
            {
                socket.Dispose();
            }

            _listener.Dispose();
        }
    }
}
