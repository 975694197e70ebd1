using Ecg2Af.Audit;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// Deletes audit records older than <see cref="AuditOptions.RetentionDays"/>, at start-up and then every
/// <see cref="AuditOptions.RetentionInterval"/> (clock: <see cref="TimeProvider"/>). Idle when no retention is set.
/// Several workers sharing one store may all run it; the deletes are idempotent.
/// </summary>
internal sealed class AuditRetention(IAuditStore store, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditRetention> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RetentionDays is not { } days)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            await RunOnceAsync(days, stoppingToken);
            try
            {
                await Task.Delay(options.Value.RetentionInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One retention pass; failures are logged and retried at the next pass.</summary>
    internal async Task RunOnceAsync(int days, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().AddDays(-days);
        try
        {
            var deleted = await store.DeleteOlderThanAsync(cutoff, cancellationToken);
            AuditTelemetry.RecordsDeleted(store.Kind, "retention", deleted);
            if (deleted > 0)
            {
                logger.RetentionDeleted(deleted, cutoff, store.Kind);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.RetentionFailed(store.Kind, e.GetType().Name, e.Message);
        }
    }
}
