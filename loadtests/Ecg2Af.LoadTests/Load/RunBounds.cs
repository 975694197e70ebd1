namespace Ecg2Af.LoadTests.Load;

/// <summary>
/// Hard limits on one scenario run: every run is bounded in requests and in time, whatever the load simulation says.
/// </summary>
public sealed record RunBounds
{
    /// <summary>Sends at most this many requests (scheduled sends beyond it are not made).</summary>
    public long MaxRequests { get; init; } = 100_000;

    /// <summary>Wall-clock cap for the whole scenario including waiting for the last answers; in-flight requests are cancelled then.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Open model: a scheduled send is dropped (never sent, counted) while this many requests are in flight.</summary>
    public int MaxInFlight { get; init; } = 512;

    /// <summary>Open model: a send leaving later than this after its scheduled time is counted as late.</summary>
    public TimeSpan LateTolerance { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Per-request timeout (a timed-out request is a failure with status "timeout").</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Width of one point of the latency-over-time series.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Seed of the step mix (the same seed picks the same step for the same request number).</summary>
    public int Seed { get; init; } = 1;
}
