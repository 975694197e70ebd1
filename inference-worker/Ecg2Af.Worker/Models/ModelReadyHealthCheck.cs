using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ecg2Af.Worker.Models;

/// <summary>
/// Ready (200) only once the models present at start-up are loaded (or refused), while the default model serves and
/// the worker has warmed up (<see cref="WarmUpHost"/>) and is not draining for shutdown; Unhealthy (503) otherwise. A CPU fallback is reported as "degraded: cpu_fallback" in the description but stays ready.
/// </summary>
internal sealed class ModelReadyHealthCheck(ModelCatalog catalog, InferenceScheduler scheduler, ModelRepositoryHost host, WarmUpHost warmUp)
    : IHealthCheck
{
    public static bool IsReady(ModelCatalog catalog, InferenceScheduler scheduler, WarmUpHost warmUp) =>
        !scheduler.IsDraining && catalog.IsReady && warmUp.IsDone;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (scheduler.IsDraining)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("draining for shutdown"));
        }

        var (_, served, _) = catalog.Resolve(catalog.DefaultModel, null);
        if (served is null || !catalog.IsReady)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"model not ready: {host.Status}"));
        }

        if (!warmUp.IsDone)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("warming up"));
        }

        var degraded = served.Model.Runner.FallbackReason is not null ? " (degraded: cpu_fallback)" : "";
        return Task.FromResult(HealthCheckResult.Healthy($"{served.ModelName}/{served.ModelVersion} on {served.ExecutionProvider}{degraded}"));
    }
}
