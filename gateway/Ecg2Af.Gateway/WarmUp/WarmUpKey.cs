using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ecg2Af.Security;

namespace Ecg2Af.Gateway.WarmUp;

/// <summary>
/// The credential of the gateway's own warm-up: a random key made at start-up that lives only in this process's
/// memory (never configured, logged or written anywhere), accepted only from a loopback connection and only until the
/// warm-up ends, when it is dropped for good. It holds the <c>predict</c> scope under the id
/// <see cref="WarmUpCallers.Gateway"/>, with a bucket of its own so the warm-up is not throttled.
/// </summary>
internal sealed class WarmUpKey
{
    private readonly byte[] _digest;
    private volatile bool _open = true;

    public WarmUpKey()
    {
        Key = ApiKeyGenerator.Create();
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(Key));
    }

    /// <summary>The key text, for the warm-up's own requests; empty once <see cref="Close"/> ran.</summary>
    public string Key { get; private set; }

    public ApiKeyEntry Entry { get; } = new()
    {
        Id = WarmUpCallers.Gateway,
        Scopes = [ApiKeyScopes.Predict],
        RateLimit = new ApiKeyRateLimit { Burst = 1_000, PermitsPerSecond = 1_000 },
    };

    public bool IsOpen => _open;

    /// <summary>The warm-up's entry when <paramref name="presented"/> is its key, sent over loopback while it runs; else null.</summary>
    public ApiKeyEntry? Find(string presented, IPAddress? peer)
    {
        if (!_open || peer is null || !IPAddress.IsLoopback(peer) || string.IsNullOrEmpty(presented) || presented.Length > ApiKeyRing.MaxKeyLength)
        {
            return null;
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        return CryptographicOperations.FixedTimeEquals(digest, _digest) ? Entry : null;
    }

    /// <summary>Ends the key's life: from now on it opens nothing.</summary>
    public void Close()
    {
        _open = false;
        Key = "";
    }
}
