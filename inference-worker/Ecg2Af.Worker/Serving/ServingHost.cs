using Ecg2Af.Inference.Serving;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Serving;

/// <summary>
/// Starts the inference loops with the host and drains them on shutdown: as soon as the host starts stopping (before
/// Kestrel closes its listener) readiness turns 503 and new work is refused with 503; queued and running requests get
/// <see cref="SchedulerOptions.DrainTimeout"/> to finish, and readiness stays 503 for at least
/// <see cref="SchedulerOptions.ShutdownReadinessDelay"/> so load balancers stop routing here first.
/// </summary>
internal sealed class ServingHost(InferenceScheduler scheduler, IOptions<SchedulerOptions> options, ILogger<ServingHost> logger)
    : IHostedLifecycleService
{
    private readonly SchedulerOptions _options = options.Value;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        scheduler.Start();
        ServingMetrics.SetLoops(scheduler.Loops);
        ServingMetrics.SetQueueCapacity(_options);
        logger.SchedulerStarted(scheduler.Loops, _options.MaxBatchSize, _options.MaxQueueDelayMs, scheduler.AdaptiveBatchCap ? "on" : "off");
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        scheduler.BeginDrain();
        ServingMetrics.SetDraining(true);
        var queued = Priorities.All.Sum(scheduler.QueuedItems);
        logger.Draining(queued, scheduler.BusyLoops, _options.DrainTimeout.TotalSeconds);
        var drain = scheduler.DrainAsync(_options.DrainTimeout, cancellationToken);
        try
        {
            await Task.WhenAll(drain, Task.Delay(_options.ShutdownReadinessDelay, cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }

        if (drain.IsCompletedSuccessfully && drain.Result)
        {
            logger.Drained();
        }
        else
        {
            logger.DrainTimedOut();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static partial class ServingLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information,
        Message = "Inference scheduler started: {Loops} loop(s), max batch {MaxBatch}, max queue delay {DelayMs} ms, adaptive batch cap {AdaptiveCap}")]
    public static partial void SchedulerStarted(this ILogger logger, int loops, int maxBatch, double delayMs, string adaptiveCap);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information,
        Message = "Draining: readiness is 503 and new work is refused; {Queued} queued item(s), {Busy} busy loop(s), up to {DrainSeconds} s")]
    public static partial void Draining(this ILogger logger, int queued, int busy, double drainSeconds);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Drained: every queued and running request finished")]
    public static partial void Drained(this ILogger logger);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Drain time ran out: requests still queued were refused with 503")]
    public static partial void DrainTimedOut(this ILogger logger);

    [LoggerMessage(EventId = 304, Level = LogLevel.Error, Message = "Inference failed for {Model}/{Version}")]
    public static partial void InferenceFailed(this ILogger logger, string model, string version, Exception exception);

    [LoggerMessage(EventId = 305, Level = LogLevel.Error, Message = "The model {Model}/{Version} produced a non-finite output that JSON cannot carry")]
    public static partial void NonFiniteOutput(this ILogger logger, string model, string version);
}
