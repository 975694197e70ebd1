using Prometheus;

namespace Ecg2Af.Gateway.Observability;

/// <summary>Why the gateway answered a request itself instead of a worker.</summary>
internal enum RejectionReason
{
    RateLimited,
    ConcurrencyLimited,
    BodyTooLarge,
    TimedOut,
    NoDestination,
    Unauthenticated,
    Forbidden,
}

/// <summary>
/// The gateway's own Prometheus series (names are listed in docs/gateway.md). Labels are destination ids and fixed
/// vocabularies only: never a client address or anything a client sent.
/// </summary>
internal sealed class GatewayMetrics
{
    /// <summary>1 ms to 10 s: a loopback hop is about a millisecond, a CPU inference a few hundred.</summary>
    public static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter _upstreamRequests = Metrics.CreateCounter(
        "ecg2af_gateway_upstream_requests_total",
        "Attempts forwarded to a worker, by destination and the status code the worker answered (none: no answer).",
        "destination", "code");

    private readonly Counter _upstreamErrors = Metrics.CreateCounter(
        "ecg2af_gateway_upstream_errors_total",
        "Failed attempts by destination: transport failures (connection refused or reset, timeouts) and 5xx answers.",
        "destination", "kind");

    private readonly Histogram _upstreamDuration = Metrics.CreateHistogram(
        "ecg2af_gateway_upstream_request_duration_seconds",
        "Time of one forwarding attempt to a worker, from sending the request to the end of the response.",
        new HistogramConfiguration { LabelNames = ["destination"], Buckets = LatencyBuckets });

    private readonly Counter _retries = Metrics.CreateCounter(
        "ecg2af_gateway_retries_total",
        "Requests sent again to the next-ranked worker, by the destination that failed and why.",
        "destination", "reason");

    private readonly Counter _rejected = Metrics.CreateCounter(
        "ecg2af_gateway_rejected_requests_total",
        "Requests the gateway answered itself: rate_limited (429), concurrency_limited (503), body_too_large (413), timed_out (504), no_destination (503), unauthenticated (401), forbidden (403).",
        "reason");

    public Gauge InFlight { get; } = Metrics.CreateGauge(
        "ecg2af_gateway_requests_in_flight",
        "Proxied requests holding a slot of the global concurrency limit.");

    public void Attempt(string destination, int? statusCode, string? errorKind, TimeSpan duration)
    {
        _upstreamRequests.WithLabels(destination, statusCode is { } code ? StatusLabel(code) : "none").Inc();
        _upstreamDuration.WithLabels(destination).Observe(duration.TotalSeconds);
        if (errorKind is not null)
        {
            _upstreamErrors.WithLabels(destination, errorKind).Inc();
        }
    }

    public void Retry(string failedDestination, string reason) => _retries.WithLabels(failedDestination, reason).Inc();

    public void Rejected(RejectionReason reason) => _rejected.WithLabels(reason switch
    {
        RejectionReason.RateLimited => "rate_limited",
        RejectionReason.ConcurrencyLimited => "concurrency_limited",
        RejectionReason.BodyTooLarge => "body_too_large",
        RejectionReason.TimedOut => "timed_out",
        RejectionReason.Unauthenticated => "unauthenticated",
        RejectionReason.Forbidden => "forbidden",
        _ => "no_destination",
    }).Inc();

    private static string StatusLabel(int code) => code.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
