using Ecg2Af.LocalCluster;
using Ecg2Af.Worker.Tests.Serving;

namespace Ecg2Af.Worker.Tests.Models;

/// <summary>
/// The execution-provider settings as a real worker process obeys them on this host, whichever kind it is:
/// <c>Cuda</c> refuses to start where CUDA cannot run (and serves on CUDA where it can), <c>Cpu</c> never falls back
/// because it never tries.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class ExecutionProviderTests(StandInRepository repository)
{
    [Fact]
    public async Task Cuda_WithoutUsableCuda_WorkerExitsWithTheReason()
    {
        var settings = Settings.Of(("Model__RepositoryPath", repository.Copy()), ("Worker__InstanceId", "cuda-required"),
            ("Model__Runtime__ExecutionProvider", "Cuda"), ("Model__BuildStandInWhenMissing", false));
        if (HostCapability.ExpectedProvider == "cuda")
        {
            await using var worker = await WorkerProcess.StartAsync(settings["Model__RepositoryPath"], settings);
            Assert.Equal(1, await worker.MetricAsync("ecg2af_model_sessions", "model=\"ecg2af\"", "execution_provider=\"cuda\""));
            return;
        }

        await using var process = await ServiceProcess.StartAsync("worker", RepositoryLayout.WorkerDll, settings, 0, TimeSpan.FromSeconds(120));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(process.HasExited, "A worker told to run on CUDA kept running on a host without usable CUDA.\n" + process.Output);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("CUDA was required", process.Output, StringComparison.Ordinal);
        Assert.Contains("the worker stops", process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cpu_ReportsNoFallbackAndCountsNone()
    {
        await using var worker = await WorkerProcess.StartAsync(repository.Copy(), Settings.Of(("Model__Runtime__ExecutionProvider", "Cpu")));

        var metadata = await worker.Client.GetStringAsync(new Uri("/v2/models/ecg2af", UriKind.Relative));
        Assert.Contains("\"execution_provider\":\"cpu\"", metadata, StringComparison.Ordinal);
        Assert.DoesNotContain("execution_provider_fallback", metadata, StringComparison.Ordinal);
        Assert.Equal(0, await worker.MetricAsync("ecg2af_execution_provider_fallbacks_total", "model=\"ecg2af\""));
        Assert.DoesNotContain("although CUDA was allowed", worker.Process.Output, StringComparison.Ordinal);
    }
}
