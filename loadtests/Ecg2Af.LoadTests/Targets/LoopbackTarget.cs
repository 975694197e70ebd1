using System.Net;
using System.Net.Sockets;

namespace Ecg2Af.LoadTests.Targets;

/// <summary>Load goes to loopback only: the target must be an http(s) URL whose host is, or resolves only to, loopback addresses.</summary>
public static class LoopbackTarget
{
    /// <summary>Parses and checks <paramref name="text"/>; throws <see cref="ArgumentException"/> saying why it is refused.</summary>
    public static Uri Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Target '{text}' is not an absolute http:// or https:// URL.");
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = Dns.GetHostAddresses(uri.DnsSafeHost);
            }
            catch (SocketException e)
            {
                throw new ArgumentException($"Target host '{uri.Host}' does not resolve: {e.Message}", e);
            }
        }

        if (addresses.Length == 0 || !addresses.All(IPAddress.IsLoopback))
        {
            throw new ArgumentException($"Target '{text}' is not on loopback ({string.Join(", ", addresses.Select(a => a.ToString()))}): this tool sends load to 127.0.0.0/8 or ::1 only.");
        }

        return uri;
    }
}
