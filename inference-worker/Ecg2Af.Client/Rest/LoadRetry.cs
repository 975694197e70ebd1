using System.Net;
using Polly;
using Polly.Retry;

namespace Ecg2Af.Client.Rest;

/// <summary>
/// The client's retry (Polly): a request refused for load (503 Service Unavailable, 429 Too Many Requests, 502 Bad
/// Gateway: the gateway had no worker to give it) is sent again after the answer's <c>Retry-After</c>, else after an
/// exponential wait from <see cref="Ecg2AfClientOptions.RetryDelay"/>, never longer than
/// <see cref="Ecg2AfClientOptions.MaxRetryDelay"/>. Any other answer, and transport errors, are not retried.
/// </summary>
internal static class LoadRetry
{
    public static bool IsLoadRefusal(HttpStatusCode status) =>
        status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway;

    public static ResiliencePipeline<HttpResponseMessage> Build(Ecg2AfClientOptions options, TimeProvider? time = null)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (time is not null)
        {
            builder.TimeProvider = time;
        }

        if (options.MaxRetries <= 0)
        {
            return builder.Build();
        }

        return builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = options.MaxRetries,
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>().HandleResult(r => IsLoadRefusal(r.StatusCode)),
            DelayGenerator = arguments =>
            {
                var fallback = options.RetryDelay * Math.Pow(2, arguments.AttemptNumber);
                var retryAfter = arguments.Outcome.Result?.Headers.RetryAfter switch
                {
                    { Delta: { } delta } => delta,
                    { Date: { } date } => date - DateTimeOffset.UtcNow,
                    _ => (TimeSpan?)null,
                };
                var wait = retryAfter ?? fallback;
                wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.MaxRetryDelay ? options.MaxRetryDelay : wait;
                return ValueTask.FromResult<TimeSpan?>(wait);
            },
        }).Build();
    }
}
