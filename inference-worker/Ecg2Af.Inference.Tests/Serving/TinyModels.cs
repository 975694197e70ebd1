using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.StandIn;

namespace Ecg2Af.Inference.Tests.Serving;

/// <summary>
/// Small real ONNX models with the ECG2AF input and heads (the stand-in template with a few filters), written as
/// repository versions: they load and run in milliseconds, so scheduler and repository tests stay fast.
/// </summary>
internal static class TinyModels
{
    public static Ml4hTemplate Template(int samples = 5000) => new()
    {
        Samples = samples,
        ConvLayers = [4],
        ConvWidth = 3,
        DenseBlocks = [4, 4, 4],
        BlockSize = 1,
        PoolSize = 4,
        DenseLayers = [8],
        MergeEmbed = false,
    };

    /// <summary>Writes <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.onnx + model.json</c>; returns the version directory.</summary>
    public static string Write(string root, string name, string version, int seed = 1, int samples = 5000, string? signatureName = null)
    {
        var directory = Path.Combine(root, name, version);
        var network = Ml4hTemplateBuilder.Build(Template(samples), seed);
        var onnx = OnnxExport.ToBytes(network);
        ModelVersionWriter.Write(directory, onnx, Signature(signatureName ?? name, version, samples));
        return directory;
    }

    public static ModelSignature Signature(string name, string version, int samples = 5000) => new()
    {
        Name = name,
        Version = version,
        Input = Ecg2AfHeads.Input() with { Samples = samples },
        Outputs = Ecg2AfHeads.Outputs2021,
        Provenance = new Provenance { Weights = Provenance.StandIn, Source = "tiny test model", Decoder = KnownDecoders.Ecg2Af2021 },
    };

    /// <summary>A deterministic input whose first value is <paramref name="tag"/> (so a run can tell whose input it saw).</summary>
    public static float[] Input(int tag, int length = 60_000)
    {
        var data = new float[length];
        var random = new Random(tag);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)((random.NextDouble() * 2) - 1);
        }

        data[0] = tag;
        return data;
    }
}
