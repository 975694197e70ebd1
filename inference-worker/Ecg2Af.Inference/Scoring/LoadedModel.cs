using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.Inference.Scoring;

/// <summary>A model version ready to serve: its signature, its ONNX Runtime session and where it came from.</summary>
public sealed class LoadedModel : IDisposable
{
    public LoadedModel(string directory, ModelSignature signature, OnnxModelRunner runner, string onnxSha256, ServedGraph graph)
    {
        Directory = directory;
        Signature = signature;
        Runner = runner;
        OnnxSha256 = onnxSha256;
        Graph = graph;
    }

    public string Directory { get; }

    public ModelSignature Signature { get; }

    public OnnxModelRunner Runner { get; }

    /// <summary>SHA-256 (hex) of the <c>model.onnx</c> that serves.</summary>
    public string OnnxSha256 { get; }

    /// <summary>The graph ONNX Runtime runs: <c>model.onnx</c> itself, or its 2-D rewrite.</summary>
    public ServedGraph Graph { get; }

    public string Name => Signature.Name;

    public string Version => Signature.Version;

    public bool IsStandIn => Signature.Provenance.Weights == Provenance.StandIn;

    /// <summary>Loads <c>model.json</c> and <c>model.onnx</c> from a version directory and warms the session up.</summary>
    public static LoadedModel Load(string versionDirectory, RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
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

        var bytes = File.ReadAllBytes(onnxPath);
        var sha = ModelFiles.Sha256(bytes);
        var graph = ServedGraph.For(bytes, sha, options.Conv1DAs2D);
        var runner = OnnxModelRunner.Load(graph.Bytes, ModelFiles.Onnx, signature, options);
        return new LoadedModel(versionDirectory, signature, runner, sha, graph);
    }

    public void Dispose() => Runner.Dispose();
}

/// <summary>
/// The bytes ONNX Runtime loads for a version, and their provenance: <c>model.onnx</c> as it is, or (when
/// <see cref="RuntimeOptions.Conv1DAs2D"/> is on and the graph has 1-D convolutions) its <see cref="Conv1DTo2D"/>
/// rewrite, with its own SHA-256. The rewrite is deterministic, so the same file always gives the same served graph.
/// </summary>
public sealed record ServedGraph(byte[] Bytes, string Sha256, string? Rewrite, int Convolutions, int Pools)
{
    /// <summary>The <see cref="Rewrite"/> name of <see cref="Conv1DTo2D"/>.</summary>
    public const string Conv1DAs2D = "conv1d-as-2d";

    /// <summary>For logs: <c>model.onnx as stored</c>, or the rewrite and what it changed.</summary>
    public string Describe() => Rewrite is null
        ? "model.onnx as stored"
        : FormattableString.Invariant($"{Rewrite} ({Convolutions} convolutions, {Pools} poolings)");

    public static ServedGraph Unchanged(byte[] bytes, string sha256) => new(bytes, sha256, null, 0, 0);

    public static ServedGraph For(byte[] onnx, string sha256, bool conv1DAs2D)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        if (!conv1DAs2D)
        {
            return Unchanged(onnx, sha256);
        }

        Conv1DTo2DResult rewritten;
        try
        {
            rewritten = Conv1DTo2D.Rewrite(onnx);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            // Not a readable model: ONNX Runtime refuses it with its own message when it loads the bytes as they are.
            return Unchanged(onnx, sha256);
        }

        return rewritten.Changed
            ? new ServedGraph(rewritten.Model, ModelFiles.Sha256(rewritten.Model), Conv1DAs2D, rewritten.Convolutions, rewritten.Pools)
            : Unchanged(onnx, sha256);
    }
}
