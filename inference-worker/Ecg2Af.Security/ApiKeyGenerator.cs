using System.Buffers.Text;
using System.Security.Cryptography;

namespace Ecg2Af.Security;

/// <summary>New keys: <c>e2a_</c> and 32 random bytes (256 bits) in base64url, 47 characters in all.</summary>
public static class ApiKeyGenerator
{
    public const string Prefix = "e2a_";

    public static string Create() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
