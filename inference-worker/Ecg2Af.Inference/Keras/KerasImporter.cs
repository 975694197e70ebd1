using Ecg2Af.Ecg;
using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.Keras;

/// <summary>
/// How to describe an imported model in its <c>model.json</c>. Anything left null is taken from the model (input name,
/// samples, output names and activations) or from the ECG2AF defaults (12 standard leads, 500 Hz, resample, global
/// z-score, mV).
/// </summary>
public sealed record KerasImportOptions
{
    public required string Name { get; init; }

    public string Version { get; init; } = "1";

    /// <summary>
    /// <see cref="KnownDecoders"/> name, or null/"auto": the ECG2AF 2021 or 2024 heads when the output names match them,
    /// otherwise multilabel for one sigmoid output and softmax for one softmax output.
    /// </summary>
    public string? Decoder { get; init; }

    public IReadOnlyList<string>? Leads { get; init; }

    public double? SampleRateHz { get; init; }

    /// <summary>Input length; must agree with the model when it fixes one, and is required when it does not.</summary>
    public int? Samples { get; init; }

    public NormalizationKind? Normalization { get; init; }

    public LengthPolicy? LengthPolicy { get; init; }

    public double? Epsilon { get; init; }

    public string? Units { get; init; }

    /// <summary>Class names of a multilabel or softmax output, in channel order.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}

/// <summary>The outcome of an import: the network, its ONNX bytes and the signature describing them.</summary>
public sealed record KerasImportResult(Network Network, byte[] Onnx, ModelSignature Signature, KerasFormat Format, string? KerasVersion);

/// <summary>
/// Imports a Keras model — legacy <c>.h5</c> (Keras 2, or Keras 3's legacy writer) or Keras 3 <c>.keras</c> — into ONNX
/// (IR 8, opset 17) with the Keras input and output names, and a <see cref="ModelSignature"/>.
/// </summary>
public static class KerasImporter
{
    public const string Auto = "auto";

    public static KerasImportResult Import(string path, KerasImportOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        Network network;
        KerasFormat format;
        string? kerasVersion;
        using (var file = KerasModelFile.Open(path))
        {
            network = KerasGraphConverter.Convert(file.Config.RootElement, file.Weights, options.Samples);
            format = file.Format;
            kerasVersion = file.KerasVersion;
        }

        var shapes = NetworkShapes.Infer(network);
        var (decoder, outputs) = ImportSignature.Outputs(network, shapes, options);
        var input = ImportSignature.Input(network, options);
        var cost = ModelCost.Of(network);
        var fileName = Path.GetFileName(path);
        var onnx = OnnxExport.ToBytes(network, new OnnxExportOptions
        {
            GraphName = options.Name,
            DocString = $"Imported from {fileName} (Keras {kerasVersion ?? "unknown"}, {format}) by {OnnxExport.Producer}.",
            Metadata = new Dictionary<string, string>
            {
                ["ecg2af.weights"] = Provenance.Imported,
                ["ecg2af.source"] = fileName,
            },
        });
        var signature = new ModelSignature
        {
            Name = options.Name,
            Version = options.Version,
            Description = $"{options.Name} imported from {fileName} (Keras {kerasVersion ?? "unknown"}).",
            Input = input,
            Outputs = outputs,
            Provenance = new Provenance
            {
                Weights = Provenance.Imported,
                Source = fileName,
                SourceSha256 = ModelFiles.Sha256(path),
                Decoder = decoder,
                Parameters = cost.Parameters,
                MacsPerInput = cost.MacsPerInput,
                CreatedUtc = DateTimeOffset.UtcNow,
                Notice = ImportSignature.Notice(decoder),
            },
        };
        return new KerasImportResult(network, onnx, signature, format, kerasVersion);
    }

    /// <summary>Imports and writes <c>&lt;modelsRoot&gt;/&lt;name&gt;/&lt;version&gt;/model.onnx</c> and <c>model.json</c>.</summary>
    public static KerasImportResult ImportTo(string path, string modelsRoot, KerasImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = Import(path, options);
        ModelVersionWriter.Write(Path.Combine(modelsRoot, options.Name, options.Version), result.Onnx, result.Signature);
        return result;
    }
}
