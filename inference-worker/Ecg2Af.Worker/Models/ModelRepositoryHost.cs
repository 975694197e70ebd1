using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Worker.Serving;

namespace Ecg2Af.Worker.Models;

/// <summary>
/// Loads the model repository in the background after start-up (building the stand-in first when the default model
/// has no version) and then keeps it in line with the files (hot reload). The worker reports ready once the default
/// model serves; if it cannot, the worker stops with exit code 1.
/// </summary>
internal sealed class ModelRepositoryHost(
    ModelCatalog catalog,
    IHostApplicationLifetime lifetime,
    ILogger<ModelRepositoryHost> logger) : BackgroundService
{
    /// <summary>Why the default model is not serving yet, for the readiness report.</summary>
    public string Status { get; private set; } = "loading";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Run(() =>
            {
                catalog.BuildStandInIfMissing();
                catalog.Sync(initial: true);
            }, stoppingToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModelLoadException)
        {
            Status = e.Message;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!catalog.DefaultModelServes)
        {
            var (_, _, message) = catalog.Resolve(catalog.DefaultModel, null);
            Status = Status == "loading" ? message : Status;
            logger.DefaultModelUnavailable(catalog.DefaultModel, Status);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
            return;
        }

        Status = "ready";
        await catalog.RunAsync(stoppingToken);
    }
}

/// <summary>Logs and counts what the catalog does.</summary>
internal sealed class RepositoryEventLog(ILogger<ModelCatalog> logger) : IRepositoryEvents
{
    public void VersionLoaded(ServedVersion version, ServedVersion? replaced)
    {
        if (replaced is not null)
        {
            ServingMetrics.VersionRetired(replaced);
            logger.ModelReloaded(version.ModelName, version.ModelVersion);
            WatchUnload(replaced);
        }

        ServingMetrics.VersionLoaded(version);
        logger.ModelLoaded(version.ModelName, version.ModelVersion, version.Signature.Provenance.Weights, version.ExecutionProvider,
            version.Sessions, version.Model.OnnxSha256, version.Model.Graph.Describe(), version.Model.Graph.Sha256, (long)version.LoadTime.TotalMilliseconds);
        if (version.Model.Runner.FallbackReason is { } reason)
        {
            logger.CudaFallback(version.ModelName, version.ModelVersion, reason);
        }
    }

    public void VersionRefused(string model, string version, string reason, bool keepsServingEarlierContent)
    {
        ServingMetrics.VersionRefused(model);
        logger.ModelRefused(model, version, keepsServingEarlierContent ? "its earlier content keeps serving" : "never served", reason);
    }

    public void VersionRetired(ServedVersion version)
    {
        ServingMetrics.VersionRetired(version);
        logger.ModelRetired(version.ModelName, version.ModelVersion);
        WatchUnload(version);
    }

    public void StandInBuilt(string directory) => logger.StandInBuilt(directory);

    private void WatchUnload(ServedVersion version) =>
        _ = version.Unloaded.ContinueWith(
            _ => logger.ModelUnloaded(version.ModelName, version.ModelVersion),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
