using System.Security.Cryptography;
using System.Text;

namespace Ecg2Af.Security;

/// <summary>
/// Verifies a presented key against the configured hashes. The presented key is hashed once and compared with every
/// configured hash by <see cref="CryptographicOperations.FixedTimeEquals"/>, without stopping at a match, so neither
/// the timing nor the key's length says which key (if any) was close. The key's text is never kept.
/// </summary>
public sealed class ApiKeyRing
{
    /// <summary>Longest credential looked at; longer ones are refused without hashing (keys are 47 characters).</summary>
    public const int MaxKeyLength = 256;

    private readonly (byte[] Digest, ApiKeyEntry Entry)[] _keys;

    public ApiKeyRing(ApiKeyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keys = [.. options.ApiKeys.Where(k => ApiKeyHash.IsWellFormed(k.Hash)).Select(k => (ApiKeyHash.Digest(k.Hash!), k))];
    }

    public int Count => _keys.Length;

    public IEnumerable<ApiKeyEntry> Keys => _keys.Select(k => k.Entry);

    /// <summary>The entry whose hash matches <paramref name="presented"/>, or null.</summary>
    public ApiKeyEntry? Find(string presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > MaxKeyLength)
        {
            return null;
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        ApiKeyEntry? found = null;
        foreach (var (expected, entry) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                found ??= entry;
            }
        }

        return found;
    }

    public ApiKeyEntry? ById(string id) => _keys.Select(k => k.Entry).FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.Ordinal));
}
