namespace Ecg2Af.Security;

/// <summary>How a service reaches itself over loopback (its warm-up): one of its own listening addresses.</summary>
public static class SelfCall
{
    /// <summary>A listening address as a loopback base URI; a wildcard host (0.0.0.0, [::], +, *) becomes 127.0.0.1.</summary>
    public static Uri Loopback(string listeningAddress)
    {
        ArgumentNullException.ThrowIfNull(listeningAddress);
        var uri = new Uri(listeningAddress.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return new UriBuilder(uri) { Host = host, Path = "/" }.Uri;
    }
}
