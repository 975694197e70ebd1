using System.Security.Cryptography;
using System.Text;

namespace Ecg2Af.Security;

/// <summary>The stored form of a key: <c>sha256:&lt;64 lowercase hex&gt;</c> of its UTF-8 text.</summary>
public static class ApiKeyHash
{
    public const string Prefix = "sha256:";

    public static string Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    public static bool IsWellFormed(string? hash) =>
        hash is { Length: 71 } && hash.StartsWith(Prefix, StringComparison.Ordinal)
        && hash.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef") is false;

    /// <summary>The 32 digest bytes of a well-formed hash.</summary>
    internal static byte[] Digest(string hash) => Convert.FromHexString(hash.AsSpan(Prefix.Length));
}
