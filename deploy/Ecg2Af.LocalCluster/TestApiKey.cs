using System.Globalization;
using System.Net.Http.Headers;
using Ecg2Af.Security;

namespace Ecg2Af.LocalCluster;

/// <summary>
/// An API key for processes started by tests and tools: created fresh (never stored in the repository), configured
/// on the gateway and the workers as a hash (<c>Security:ApiKeys:N</c>), and sent by clients the way a user sends one
/// (<c>Authorization: Bearer</c>).
/// </summary>
public sealed record TestApiKey(string Id, string Key, IReadOnlyList<string> Scopes, double? PermitsPerSecond = null, int? Burst = null)
{
    /// <summary>A new random key. With <paramref name="permitsPerSecond"/> and <paramref name="burst"/> it gets its own rate limit at the gateway.</summary>
    public static TestApiKey Create(string id, IReadOnlyList<string>? scopes = null, double? permitsPerSecond = null, int? burst = null) =>
        new(id, ApiKeyGenerator.Create(), scopes ?? [ApiKeyScopes.Predict], permitsPerSecond, burst);

    public string Hash => ApiKeyHash.Of(Key);

    /// <summary>The configuration of this key as entry <paramref name="index"/> of <c>Security:ApiKeys</c>, as environment variables.</summary>
    public Dictionary<string, string> Settings(int index = 0)
    {
        var prefix = $"Security__ApiKeys__{index.ToString(CultureInfo.InvariantCulture)}__";
        var settings = new Dictionary<string, string>
        {
            [prefix + "Id"] = Id,
            [prefix + "Hash"] = Hash,
        };
        for (var i = 0; i < Scopes.Count; i++)
        {
            settings[prefix + "Scopes__" + i.ToString(CultureInfo.InvariantCulture)] = Scopes[i];
        }

        if (PermitsPerSecond is { } rate && Burst is { } burst)
        {
            settings[prefix + "RateLimit__PermitsPerSecond"] = rate.ToString(CultureInfo.InvariantCulture);
            settings[prefix + "RateLimit__Burst"] = burst.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>Every request of <paramref name="client"/> sends the key.</summary>
    public HttpClient Authorize(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return client;
    }

    /// <summary>This request sends the key.</summary>
    public HttpRequestMessage Authorize(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return request;
    }

    /// <summary>Keeps the key out of test output (records print their members).</summary>
    public override string ToString() => $"TestApiKey {Id}";
}
