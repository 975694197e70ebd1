using Ecg2Af.LoadTests.Load;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// One real gateway in front of three real workers (child processes on loopback), shared by every end-to-end test
/// class in <see cref="ClusterCollection"/>, which xUnit runs one after another. Tests that kill or replace a worker
/// put it back before they finish.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int WorkerCount = 3;

    /// <summary>Distinct client source addresses used by the acceptance tests.</summary>
    public const int ClientCount = 200;

    private readonly Lazy<ClientPool> _clients;

    public ClusterFixture() =>
        _clients = new(() => new ClientPool(ClientCount, TimeSpan.FromSeconds(60), connectionsPerClient: 4, Cluster.ApiKey.Key));

    private IReadOnlyList<string>? _homes;

    public LocalCluster.LocalCluster Cluster { get; private set; } = null!;

    public Uri Gateway => Cluster.GatewayUrl;

    /// <summary>Client i connects from <see cref="LoopbackClients.Address"/>(i) and sends the cluster's API key (the load tool's client pool).</summary>
    public IReadOnlyList<HttpClient> Clients => _clients.Value;

    public async Task InitializeAsync() => Cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions { Workers = WorkerCount });

    public async Task DisposeAsync()
    {
        if (_clients.IsValueCreated)
        {
            _clients.Value.Dispose();
        }

        await Cluster.DisposeAsync();
    }

    /// <summary>
    /// Each client's worker while all three are healthy (the rendezvous hash is deterministic, so this is computed
    /// once, through the main gateway, and is the same for every gateway with the same destinations).
    /// </summary>
    public async Task<IReadOnlyList<string>> HomesAsync()
    {
        if (_homes is null)
        {
            await WaitUntilAllAvailableAsync(Gateway);
            var round = await Load.RoundAsync(Clients, Gateway, Load.PreprocessMv);
            Assert.Empty(round.Failures);
            _homes = [.. round.Workers.Select(w => w!)];
        }

        return _homes;
    }

    /// <summary>Polls the gateway's metrics until every worker is in rotation again.</summary>
    public Task WaitUntilAllAvailableAsync(Uri gateway, TimeSpan? timeout = null) => Cluster.WaitUntilWorkersAvailableAsync(gateway, timeout);

    /// <summary>Restarts worker <paramref name="index"/> with the cluster's settings if it is not running normally.</summary>
    public async Task RestoreWorkerAsync(int index)
    {
        await Cluster.KillWorkerAsync(index);
        await Cluster.RestartWorkerAsync(index);
        await WaitUntilAllAvailableAsync(Gateway);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Gateway in front of three workers";
}
