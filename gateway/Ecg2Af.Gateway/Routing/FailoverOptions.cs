using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Routing;

/// <summary>Failover to the next-ranked worker. Section <c>Gateway:Failover</c>.</summary>
public sealed class FailoverOptions
{
    public const string Section = "Gateway:Failover";

    /// <summary>
    /// Further attempts after a refused or reset connection or a 503 that arrived before any response byte was sent
    /// to the client: each goes to the client's next-ranked healthy worker. 0 turns failover off; default 1.
    /// </summary>
    [Range(0, 8)]
    public int MaxRetries { get; set; } = 1;

    /// <summary>
    /// How long the gateway waits for a worker to accept a TCP connection. A worker that is down but whose address
    /// still exists (a host that drops packets, a full accept queue) would otherwise hold the request until the
    /// request timeout; past this, the attempt fails as a transport error and goes to the next-ranked worker.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
