using System.Net;
using Polly;
using Polly.Retry;

namespace Ecg2Af.Client.Rest;

/// <summary>
/// The client's retry (Polly), for REST and gRPC alike: a call refused for load is tried again after the service's
/// hint of when to come back, else after an exponential wait from <see cref="Ecg2AfClientOptions.RetryDelay"/>, never
/// longer than <see cref="Ecg2AfClientOptions.MaxRetryDelay"/>. REST: 503 Service Unavailable, 429 Too Many Requests
/// and 502 Bad Gateway (the gateway had no worker to give it), hint <c>Retry-After</c>. gRPC: UNAVAILABLE and
/// RESOURCE_EXHAUSTED, hint <c>grpc-retry-pushback-ms</c> or <c>retry-after</c> (see <see cref="GrpcRetry"/>).
/// Any other answer, and REST transport errors, are not retried.
/// </summary>
internal static class LoadRetry
{
    public static bool IsLoadRefusal(HttpStatusCode status) =>
        status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway;

    public static ResiliencePipeline<HttpResponseMessage> Build(Ecg2AfClientOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (time is not null)
        {
            builder.TimeProvider = time;
        }

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(Strategy(
                new RetryStrategyOptions<HttpResponseMessage>(),
                options,
                new PredicateBuilder<HttpResponseMessage>().HandleResult(r => IsLoadRefusal(r.StatusCode)),
                outcome => outcome.Result?.Headers.RetryAfter switch
                {
                    { Delta: { } delta } => delta,
                    { Date: { } date } => date - DateTimeOffset.UtcNow,
                    _ => null,
                }));
        }

        return builder.Build();
    }

    /// <summary>
    /// The one retry strategy, filled in on <paramref name="strategy"/>: <paramref name="shouldHandle"/> picks the
    /// refusals to try again, <paramref name="hint"/> reads how long the service asked the client to wait (null: no
    /// hint, the exponential wait applies).
    /// </summary>
    public static TStrategy Strategy<TStrategy, T>(
        TStrategy strategy, Ecg2AfClientOptions options, PredicateBuilder<T> shouldHandle, Func<Outcome<T>, TimeSpan?> hint)
        where TStrategy : RetryStrategyOptions<T>
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(options);
        strategy.MaxRetryAttempts = options.MaxRetries;
        strategy.ShouldHandle = shouldHandle;
        strategy.DelayGenerator = arguments =>
        {
            var fallback = options.RetryDelay * Math.Pow(2, arguments.AttemptNumber);
            var wait = hint(arguments.Outcome) ?? fallback;
            wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.MaxRetryDelay ? options.MaxRetryDelay : wait;
            return ValueTask.FromResult<TimeSpan?>(wait);
        };
        return strategy;
    }
}
