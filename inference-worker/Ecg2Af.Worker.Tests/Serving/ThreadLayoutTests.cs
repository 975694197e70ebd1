namespace Ecg2Af.Worker.Tests.Serving;

/// <summary>
/// The shipped settings lay out the worker's threads from the cores it may use: one single-threaded inference loop per
/// core (DOTNET_PROCESSOR_COUNT is how a host gives a worker its share), and an explicit loop count wins.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class ThreadLayoutTests(StandInRepository repository)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ShippedSettings_OneInferenceLoopPerCore(int cores)
    {
        await using var worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(("DOTNET_PROCESSOR_COUNT", cores)));

        Assert.Equal(cores, await worker.MetricAsync("ecg2af_inference_loops"));
    }

    [Fact]
    public async Task ExplicitLoopCount_OverridesTheLayout()
    {
        await using var worker = await WorkerProcess.StartAsync(repository.Root,
            Settings.Of(("DOTNET_PROCESSOR_COUNT", 2), ("Serving__InferenceLoops", 1)));

        Assert.Equal(1, await worker.MetricAsync("ecg2af_inference_loops"));
    }
}
