using Ecg2Af.Worker.Tests.Serving;

namespace Ecg2Af.Worker.Tests.Models;

/// <summary>
/// A worker reports ready only after it has warmed up: by the time readiness answers 200, its own warm-up requests have
/// gone through the whole OIP path and ONNX Runtime ran batches larger than one. With warm-up off it is ready cold.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class WarmUpTests(StandInRepository repository)
{
    [Fact]
    public async Task Ready_AfterStart_WarmUpRequestsAlreadyServedAtSeveralBatchSizes()
    {
        await using var worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(("Serving__WarmUpRequests", 16)));

        var served = await worker.MetricAsync("ecg2af_inference_requests_total", "model=\"ecg2af\"", "outcome=\"success\"");
        var runs = await worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\"");
        var items = await worker.MetricAsync("ecg2af_inference_batch_size_sum", "model=\"ecg2af\"");

        Assert.Equal(16, served);
        Assert.True(items > runs, $"{runs} runs of {items} items: every warm-up batch held one ECG");

        // The batch cap in force is published from the version's first batch on (the default MaxBatchSize is 16).
        var cap = await worker.MetricAsync("ecg2af_inference_batch_cap", "model=\"ecg2af\"");
        Assert.InRange(cap, 1, 16);
    }

    [Fact]
    public async Task Ready_WarmUpOff_NothingServedBeforeTheFirstClient()
    {
        await using var worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(("Serving__WarmUpRequests", 0)));

        Assert.Equal(0, await worker.MetricAsync("ecg2af_inference_requests_total", "model=\"ecg2af\"", "outcome=\"success\""));
    }
}
