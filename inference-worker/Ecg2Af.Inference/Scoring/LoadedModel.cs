using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.Inference.Scoring;

/// <summary>A model version ready to serve: its signature, its ONNX Runtime session and where it came from.</summary>
public sealed class LoadedModel : IDisposable
{
    public LoadedModel(string directory, ModelSignature signature, OnnxModelRunner runner, string onnxSha256)
    {
        Directory = directory;
        Signature = signature;
        Runner = runner;
        OnnxSha256 = onnxSha256;
    }

    public string Directory { get; }

    public ModelSignature Signature { get; }

    public OnnxModelRunner Runner { get; }

    /// <summary>SHA-256 (hex) of the <c>model.onnx</c> that serves.</summary>
    public string OnnxSha256 { get; }

    public string Name => Signature.Name;

    public string Version => Signature.Version;

    public bool IsStandIn => Signature.Provenance.Weights == Provenance.StandIn;

    /// <summary>Loads <c>model.json</c> and <c>model.onnx</c> from a version directory and warms the session up.</summary>
    public static LoadedModel Load(string versionDirectory, RuntimeOptions options)
    {
        var signaturePath = Path.Combine(versionDirectory, ModelFiles.Signature);
        var onnxPath = Path.Combine(versionDirectory, ModelFiles.Onnx);
        if (!File.Exists(signaturePath) || !File.Exists(onnxPath))
        {
            throw new ModelLoadException($"{versionDirectory} needs both {ModelFiles.Onnx} and {ModelFiles.Signature}.");
        }

        ModelSignature signature;
        try
        {
            signature = ModelSignature.Load(signaturePath);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            throw new ModelLoadException($"{signaturePath} is not a valid model signature: {e.Message}", e);
        }

        var sha = ModelFiles.Sha256(onnxPath);
        var runner = OnnxModelRunner.Load(onnxPath, signature, options);
        return new LoadedModel(versionDirectory, signature, runner, sha);
    }

    public void Dispose() => Runner.Dispose();
}
