using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>One real gateway in front of two real workers, shared by the tests of a class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public LocalCluster.LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions { Workers = 2 });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
