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
}
