using Ecg2Af.Gateway.Observability;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Yarp.ReverseProxy.Forwarder;

namespace Ecg2Af.Gateway.Routing;

/// <summary>Why an attempt may be sent again to the next-ranked worker.</summary>
internal static class RetryReason
{
    /// <summary>Connection refused or reset (or the worker stopped reading the body) before any response arrived.</summary>
    public const string Transport = "transport";

    /// <summary>The worker answered 503 (overloaded or not ready); its answer was held back from the client.</summary>
    public const string ServiceUnavailable = "http_503";

    /// <summary>The worker answered a gRPC call with a trailers-only UNAVAILABLE; held back like a 503.</summary>
    public const string GrpcUnavailable = "grpc_unavailable";

    /// <summary>
    /// The forwarder's error as failover and metrics should read it: a TCP connect that ran past
    /// <see cref="FailoverOptions.ConnectTimeout"/> (SocketsHttpHandler reports it as a cancellation with a
    /// <see cref="TimeoutException"/> inside, which YARP files as <see cref="ForwarderError.RequestTimedOut"/>) is a
    /// transport failure: nothing reached the worker, so the attempt is as safe to retry as a refused connection.
    /// </summary>
    public static ForwarderError? Classify(ForwarderError? error, Exception? exception)
    {
        if (error is not (ForwarderError.Request or ForwarderError.RequestTimedOut))
        {
            return error;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException)
            {
                return ForwarderError.Request;
            }
        }

        return error;
    }

    /// <summary>
    /// The reason an attempt may be retried, or null. Never after a response byte reached the client, never when
    /// the client left, never for a worker's 4xx or any other answer, and only when another worker is left to try.
    /// </summary>
    public static string? For(bool anotherWorkerLeft, bool heldBack503, ForwarderError? error, bool responseStarted, bool clientGone)
    {
        if (!anotherWorkerLeft || responseStarted || clientGone)
        {
            return null;
        }

        if (heldBack503)
        {
            return ServiceUnavailable;
        }

        return error is ForwarderError.Request or ForwarderError.RequestBodyDestination ? Transport : null;
    }
}

/// <summary>One forwarding attempt as failover sees it.</summary>
internal readonly record struct AttemptResult(string? DestinationId, string? RetryReason)
{
    public bool Retryable => RetryReason is not null;
}

/// <summary>
/// The Polly pipeline behind failover: a retry strategy with no delay that retries an attempt whose
/// <see cref="AttemptResult.Retryable"/> is set, at most <see cref="FailoverOptions.MaxRetries"/> times. The
/// retried callback picks the client's next-ranked destination itself (see <see cref="ForwardingAttempts"/>).
/// </summary>
internal sealed class FailoverPipeline
{
    public static readonly ResiliencePropertyKey<ForwardingAttempts> Attempts = new("ecg2af.forwarding-attempts");

    public FailoverPipeline(IOptions<FailoverOptions> options, GatewayMetrics metrics, ILogger<FailoverPipeline> logger)
    {
        MaxRetries = options.Value.MaxRetries;
        var builder = new ResiliencePipelineBuilder<AttemptResult>();
        if (MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = MaxRetries,
                Delay = TimeSpan.Zero,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result.Retryable),
                OnRetry = args =>
                {
                    var failed = args.Outcome.Result;
                    metrics.Retry(failed.DestinationId!, failed.RetryReason!);
                    logger.RetryingElsewhere(args.AttemptNumber + 1, failed.DestinationId!, failed.RetryReason!);
                    return default;
                },
            });
        }

        Pipeline = builder.Build();
    }

    public int MaxRetries { get; }

    public ResiliencePipeline<AttemptResult> Pipeline { get; }
}
