using System.Globalization;
using Ecg2Af.Inference.Serving;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// Every worker LocalCluster starts sees only its share of the cores (<see cref="WorkerCores"/>, the AppHost's split,
/// through <c>DOTNET_PROCESSOR_COUNT</c>), so each of three workers lays out its ONNX Runtime threads for a third of
/// the machine instead of all of it; a worker setting of the variable wins. Seen through the shipped automatic layout
/// (<c>Serving:InferenceLoops</c> 0: one loop per core it may use), whose loops the worker reports in
/// <c>ecg2af_inference_loops</c>.
/// </summary>
[Collection(ClusterCollection.Name)]
public class WorkerCoresTests(ClusterFixture fixture)
{
    private const int Worker = 2;

    private static int Share => WorkerCores.PerWorker(Environment.ProcessorCount, ClusterFixture.WorkerCount);

    [Fact]
    public async Task Worker_LaysOutItsThreadsForItsShareOfTheCores()
    {
        // The shipped settings: the automatic layout.
        var loops = await LoopsAfterRestartAsync(new Dictionary<string, string>());

        Assert.Equal(Math.Min(Share, ThreadBudget.MaxAutoLoops), loops);
    }

    [Fact]
    public async Task ProcessorCountWorkerSetting_OverridesTheShare()
    {
        var other = Share == 1 ? 2 : 1;

        var loops = await LoopsAfterRestartAsync(new Dictionary<string, string>
        {
            [WorkerCores.Variable] = other.ToString(CultureInfo.InvariantCulture),
        });

        Assert.Equal(other, loops);
    }

    /// <summary>Restarts one worker with <paramref name="settings"/>, reads its loops, and puts it back as it was.</summary>
    private async Task<double> LoopsAfterRestartAsync(Dictionary<string, string> settings)
    {
        try
        {
            await fixture.Cluster.KillWorkerAsync(Worker);
            await fixture.Cluster.RestartWorkerAsync(Worker, settings, waitUntilReady: true);
            return (await PrometheusText.ScrapeAsync(fixture.Cluster.WorkerUrls[Worker])).Value("ecg2af_inference_loops");
        }
        finally
        {
            await fixture.RestoreWorkerAsync(Worker);
        }
    }
}
