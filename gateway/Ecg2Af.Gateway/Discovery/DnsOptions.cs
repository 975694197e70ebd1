using System.ComponentModel.DataAnnotations;
using System.Net.Sockets;

namespace Ecg2Af.Gateway.Discovery;

/// <summary>
/// Destinations from DNS. Section <c>Gateway:Dns</c>. When enabled, every configured destination whose address
/// names a host (not an IP literal) becomes one destination per address that name resolves to, re-resolved every
/// <see cref="RefreshPeriod"/>: <c>docker compose --scale inference-worker=N</c> then needs no configuration change.
/// </summary>
public sealed class DnsOptions
{
    public const string Section = "Gateway:Dns";

    public bool Enabled { get; set; }

    /// <summary>How often names are resolved again. 100 ms to 1 day, default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><c>InterNetwork</c> (IPv4 only), <c>InterNetworkV6</c> (IPv6 only) or <c>Unspecified</c> (both, the default).</summary>
    [AllowedValues(AddressFamily.Unspecified, AddressFamily.InterNetwork, AddressFamily.InterNetworkV6)]
    public AddressFamily AddressFamily { get; set; } = AddressFamily.Unspecified;
}
