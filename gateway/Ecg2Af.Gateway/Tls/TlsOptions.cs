using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Tls;

/// <summary>
/// What the gateway does around HTTPS. Section <c>Gateway:Tls</c>. The certificate itself is Kestrel's own
/// configuration: an endpoint <c>Kestrel:Endpoints:Https</c> with <c>Url</c> <c>https://…</c> and
/// <c>Certificate:Path</c> + <c>KeyPath</c> (PEM pair) or <c>Certificate:Path</c> + <c>Password</c> (PFX).
/// Without an HTTPS endpoint these settings change nothing (HSTS is sent over HTTPS only).
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Gateway:Tls";

    /// <summary>Send <c>Strict-Transport-Security</c> on HTTPS responses. Default true.</summary>
    public bool Hsts { get; set; } = true;

    /// <summary>HSTS <c>max-age</c>. 1 s to 2 years, default 365 days.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "730.00:00:00")]
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Add <c>includeSubDomains</c> to the HSTS header. Default false.</summary>
    public bool HstsIncludeSubDomains { get; set; }

    /// <summary>
    /// Answer plain-HTTP requests with a 308 redirect to HTTPS (except <c>/health/*</c> and <c>/metrics</c>, which
    /// probes and Prometheus read over HTTP). Needs an HTTPS endpoint. Default false.
    /// </summary>
    public bool RedirectHttp { get; set; }

    /// <summary>The port the redirect points to; unset: the HTTPS endpoint's own port (right unless a proxy maps it).</summary>
    [Range(1, 65535)]
    public int? HttpsPort { get; set; }
}
