using System.Security.Cryptography;

namespace Ecg2Af.Inference;

/// <summary>File names inside a model version directory (<c>models/&lt;name&gt;/&lt;version&gt;/</c>) and their hashes.</summary>
public static class ModelFiles
{
    public const string Onnx = "model.onnx";
    public const string Signature = "model.json";

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>SHA-256 of bytes, lower-case hex.</summary>
    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
