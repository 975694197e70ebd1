namespace Ecg2Af.Inference.Onnx;

/// <summary>Writes a model version directory: <c>model.onnx</c> and <c>model.json</c>.</summary>
public static class ModelVersionWriter
{
    /// <summary>
    /// Writes both files through temporary names and renames, <c>model.json</c> last, so a reader that waits for
    /// <c>model.json</c> never sees a half-written graph.
    /// </summary>
    public static void Write(string versionDirectory, byte[] onnx, ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(signature);
        Directory.CreateDirectory(versionDirectory);
        var onnxPath = Path.Combine(versionDirectory, ModelFiles.Onnx);
        var jsonPath = Path.Combine(versionDirectory, ModelFiles.Signature);
        // Unique temporary names: several workers may create the same stand-in at once on a shared volume.
        var suffix = $".{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(onnxPath + suffix, onnx);
        File.Move(onnxPath + suffix, onnxPath, overwrite: true);
        signature.Save(jsonPath + suffix);
        File.Move(jsonPath + suffix, jsonPath, overwrite: true);
    }
}
