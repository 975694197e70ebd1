using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Routing;

/// <summary>Where the gateway accepts gRPC besides its HTTPS port (section <c>Gateway</c>).</summary>
internal sealed class GrpcOptions
{
    public const string Section = "Gateway";

    /// <summary>
    /// Port of a cleartext HTTP/2 listener (h2c, prior knowledge) for gRPC clients, on the host of the first HTTP address
    /// (the local run: 8081). Unset: gRPC only over TLS (HTTP/2 by ALPN) where HTTPS is configured.
    /// </summary>
    [Range(1, 65535)]
    public int? GrpcPort { get; set; }
}
