using System.Globalization;
using Ecg2Af.Client.Rest;
using Grpc.Core;
using Polly;

namespace Ecg2Af.Client;

/// <summary>
/// The gRPC side of <see cref="LoadRetry"/>: a call that failed with UNAVAILABLE (overloaded, draining, model not
/// ready, no worker, or not reachable) or RESOURCE_EXHAUSTED (rate limit) is made again after the service's hint,
/// read from the trailers (a trailers-only answer carries them as its headers): <c>grpc-retry-pushback-ms</c>
/// (milliseconds; negative means "do not retry", as gRPC's retry design says), else <c>retry-after</c> (seconds).
/// </summary>
internal static class GrpcRetry
{
    public const string PushbackKey = "grpc-retry-pushback-ms";
    public const string RetryAfterKey = "retry-after";

    public static bool IsLoadRefusal(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted && Hint(e.Trailers) is not { Ticks: < 0 };

    /// <summary>How long the service asked the client to wait; negative when it asked it not to retry; null without a hint.</summary>
    public static TimeSpan? Hint(Metadata? trailers)
    {
        if (trailers?.GetValue(PushbackKey) is { } pushback)
        {
            return long.TryParse(pushback, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms)
                ? TimeSpan.FromMilliseconds(ms)
                : TimeSpan.FromTicks(-1);
        }

        return trailers?.GetValue(RetryAfterKey) is { } retryAfter
            && double.TryParse(retryAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

    public static ResiliencePipeline Build(Ecg2AfClientOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ResiliencePipelineBuilder();
        if (time is not null)
        {
            builder.TimeProvider = time;
        }

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(LoadRetry.Strategy(
                new Polly.Retry.RetryStrategyOptions(),
                options,
                new PredicateBuilder().Handle<RpcException>(IsLoadRefusal),
                outcome => outcome.Exception is RpcException e ? Hint(e.Trailers) : null));
        }

        return builder.Build();
    }
}
