using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Clients;

/// <summary>
/// Which peers may tell the gateway who the client is. Section <c>Gateway:ClientAddress</c>. With no trusted
/// proxies (the default) the client is the connection's address and <c>X-Forwarded-For</c>/<c>Forwarded</c> are
/// ignored, so no client can pick its own worker or dodge its rate limit.
/// </summary>
public sealed class ClientAddressOptions
{
    public const string Section = "Gateway:ClientAddress";

    /// <summary>Addresses (<c>10.0.0.7</c>) or networks in CIDR form (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) of trusted proxies.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>How many forwarded hops (right to left) may be believed, one per trusted proxy in the chain. 1 to 16, default 1.</summary>
    [Range(1, 16)]
    public int ForwardLimit { get; set; } = 1;
}
