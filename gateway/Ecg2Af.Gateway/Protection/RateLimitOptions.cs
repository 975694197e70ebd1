using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// Per-client-IP token bucket for the proxied API. Section <c>Gateway:RateLimit</c>. A client may burst up to
/// <see cref="TokenLimit"/> requests and then gets <see cref="TokensPerPeriod"/> more every
/// <see cref="ReplenishmentPeriod"/>; beyond that it gets 429 with Retry-After.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Gateway:RateLimit";

    public bool Enabled { get; set; } = true;

    /// <summary>Bucket size: the largest burst. 1 to 1,000,000, default 200.</summary>
    [Range(1, 1_000_000)]
    public int TokenLimit { get; set; } = 200;

    /// <summary>Tokens added per period. 1 to 1,000,000, default 100.</summary>
    [Range(1, 1_000_000)]
    public int TokensPerPeriod { get; set; } = 100;

    /// <summary>Refill period. 1 ms to 1 day, default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);
}
