namespace Ecg2Af.Security;

/// <summary>
/// Where clients put their key: <c>Authorization: Bearer &lt;key&gt;</c> (also gRPC metadata, an HTTP/2 header) or
/// <c>X-Api-Key: &lt;key&gt;</c>. Also the header the gateway forwards the verified key id in.
/// </summary>
public static class ApiKeyCredentials
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string AuthorizationHeader = "Authorization";

    /// <summary>The verified key id the gateway sends the workers; workers believe it only from trusted proxies.</summary>
    public const string KeyIdHeader = "X-Ecg2Af-Key-Id";

    /// <summary>The <c>WWW-Authenticate</c> challenge of a 401.</summary>
    public const string Challenge = "Bearer realm=\"ecg2af\"";

    /// <summary>
    /// The credential the request carries: <see cref="Presented.None"/> when neither header is there,
    /// <see cref="Presented.Malformed"/> for an Authorization header that is not one Bearer token (or conflicting
    /// headers), else the key text.
    /// </summary>
    public static (Presented Kind, string Key) Read(IReadOnlyList<string?> authorization, IReadOnlyList<string?> apiKey)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        ArgumentNullException.ThrowIfNull(apiKey);
        string? bearer = null;
        if (authorization.Count > 0)
        {
            if (authorization.Count > 1 || authorization[0] is not { } value)
            {
                return (Presented.Malformed, "");
            }

            var space = value.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || !value.AsSpan(0, space).Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                return (Presented.Malformed, "");
            }

            bearer = value[(space + 1)..].Trim();
            if (bearer.Length == 0)
            {
                return (Presented.Malformed, "");
            }
        }

        string? header = null;
        if (apiKey.Count > 0)
        {
            if (apiKey.Count > 1 || string.IsNullOrWhiteSpace(apiKey[0]))
            {
                return (Presented.Malformed, "");
            }

            header = apiKey[0]!.Trim();
        }

        if (bearer is not null && header is not null && !string.Equals(bearer, header, StringComparison.Ordinal))
        {
            return (Presented.Malformed, "");
        }

        return (bearer ?? header) is { } key ? (Presented.Key, key) : (Presented.None, "");
    }
}

public enum Presented
{
    None,
    Key,
    Malformed,
}
