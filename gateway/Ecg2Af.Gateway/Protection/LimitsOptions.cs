using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Protection;

/// <summary>Limits on each proxied request and on the gateway as a whole. Section <c>Gateway:Limits</c>.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Gateway:Limits";

    /// <summary>
    /// Largest request body accepted (bytes); larger ones get 413 before any worker sees them. Default 32 MiB, the
    /// workers' own upload limit. The whole body is buffered so that a failed first attempt can be sent again.
    /// </summary>
    [Range(typeof(long), "1", "9223372036854775807")]
    public long MaxRequestBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Bodies up to this size are buffered in memory, larger ones in a temporary file. Default 1 MiB.</summary>
    [Range(0, int.MaxValue)]
    public int MemoryBufferBytes { get; set; } = 1024 * 1024;

    /// <summary>Whole-request deadline (upload, every attempt, response); 504 when it passes. 1 ms to 1 h, default 2 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Proxied requests in progress at once, over all clients. Default 1024.</summary>
    [Range(1, 1_000_000)]
    public int MaxConcurrentRequests { get; set; } = 1024;

    /// <summary>Requests that may wait for a free slot; beyond that 503 with Retry-After. Default 0 (no queue).</summary>
    [Range(0, 1_000_000)]
    public int ConcurrencyQueueLimit { get; set; }
}
