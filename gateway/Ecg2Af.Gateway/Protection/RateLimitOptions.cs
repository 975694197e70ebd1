using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// Token buckets for the proxied API. Section <c>Gateway:RateLimit</c>. A request with a verified API key draws from
/// its key's bucket (the key's own <c>Security:ApiKeys:N:RateLimit</c>, else <see cref="KeyTokenLimit"/> and
/// <see cref="KeyTokensPerPeriod"/>); any other request from its client address's bucket (<see cref="TokenLimit"/>,
/// <see cref="TokensPerPeriod"/>). Beyond that, 429 with Retry-After. The defaults are sized against one worker's
/// measured capacity (docs/gateway.md, "Rate limits and capacity").
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Gateway:RateLimit";

    public bool Enabled { get; set; } = true;

    /// <summary>Per client address: bucket size, the largest burst. 1 to 1,000,000, default 10.</summary>
    [Range(1, 1_000_000)]
    public int TokenLimit { get; set; } = 10;

    /// <summary>Per client address: tokens added per period. 1 to 1,000,000, default 2 (per second).</summary>
    [Range(1, 1_000_000)]
    public int TokensPerPeriod { get; set; } = 2;

    /// <summary>Refill period of both kinds of bucket. 1 ms to 1 day, default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Per key without a limit of its own: bucket size. 1 to 1,000,000, default 40.</summary>
    [Range(1, 1_000_000)]
    public int KeyTokenLimit { get; set; } = 40;

    /// <summary>Per key without a limit of its own: tokens per period. 1 to 1,000,000, default 20 (per second).</summary>
    [Range(1, 1_000_000)]
    public int KeyTokensPerPeriod { get; set; } = 20;
}
