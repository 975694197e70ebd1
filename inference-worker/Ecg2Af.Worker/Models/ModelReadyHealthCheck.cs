using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ecg2Af.Worker.Models;

/// <summary>Ready only once the model is loaded and its warm-up run passed (Unhealthy, so 503, until then).</summary>
internal sealed class ModelReadyHealthCheck(ModelHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var model = host.Current;
        return Task.FromResult(model is null
            ? HealthCheckResult.Unhealthy($"model not ready: {host.Status}")
            : HealthCheckResult.Healthy($"{model.Name}/{model.Version} on {model.Runner.ExecutionProvider}"));
    }
}
