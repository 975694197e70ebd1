using System.Globalization;
using Ecg2Af.Inference.Serving;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// Every worker LocalCluster starts sees only its share of the cores (<see cref="WorkerCores"/>, the AppHost's split,
/// through <c>DOTNET_PROCESSOR_COUNT</c>), so three workers lay out their inference loops for a third of the machine
/// each instead of all of it; a worker setting of the variable wins. The worker reports its loops in
/// <c>ecg2af_inference_loops</c>.
/// </summary>
[Collection(ClusterCollection.Name)]
public class WorkerCoresTests(ClusterFixture fixture)
{
    [Fact]
    public async Task EveryWorker_LaysOutItsInferenceLoopsForItsShareOfTheCores()
    {
        var share = WorkerCores.PerWorker(Environment.ProcessorCount, ClusterFixture.WorkerCount);

        for (var i = 0; i < ClusterFixture.WorkerCount; i++)
        {
            var metrics = await PrometheusText.ScrapeAsync(fixture.Cluster.WorkerUrls[i]);
            Assert.Equal(AutomaticLoops(share), metrics.Value("ecg2af_inference_loops"));
        }
    }

    [Fact]
    public async Task ProcessorCountWorkerSetting_OverridesTheShare()
    {
        const int worker = 2;
        var share = WorkerCores.PerWorker(Environment.ProcessorCount, ClusterFixture.WorkerCount);
        var other = share == 1 ? 2 : 1;
        try
        {
            await fixture.Cluster.KillWorkerAsync(worker);
            await fixture.Cluster.RestartWorkerAsync(worker, new Dictionary<string, string> { [WorkerCores.Variable] = other.ToString(CultureInfo.InvariantCulture) }, waitUntilReady: true);

            var metrics = await PrometheusText.ScrapeAsync(fixture.Cluster.WorkerUrls[worker]);

            Assert.Equal(AutomaticLoops(other), metrics.Value("ecg2af_inference_loops"));
        }
        finally
        {
            await fixture.RestoreWorkerAsync(worker);
        }
    }

    /// <summary>The worker's automatic layout on <paramref name="cores"/>: one single-threaded loop per core, at most <see cref="ThreadBudget.MaxAutoLoops"/>.</summary>
    private static double AutomaticLoops(int cores) => Math.Min(cores, ThreadBudget.MaxAutoLoops);
}
