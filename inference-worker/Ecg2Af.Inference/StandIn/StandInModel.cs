using System.Globalization;
using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.StandIn;

/// <summary>
/// The stand-in ECG2AF model: the ml4h 2024-default block template (<see cref="Ml4hTemplate"/>) with the exact ECG2AF
/// input and the four 2021 heads, and seeded random weights. It exercises the serving path end to end; its outputs
/// carry no clinical meaning.
/// </summary>
public static class StandInModel
{
    public const int DefaultSeed = 20210521;

    public const string Notice =
        "STAND-IN MODEL: seeded random weights in the ECG2AF architecture template. Outputs are not clinically meaningful " +
        "and must not be shown as a risk estimate. Import the published ECG2AF weights with `ecg2af import` for real predictions.";

    public static Ml4hTemplate Template { get; } = new();

    public static Network Build(int seed = DefaultSeed) => Ml4hTemplateBuilder.Build(Template, seed);

    /// <summary>The ONNX bytes of the stand-in: the same seed always gives the same bytes.</summary>
    public static byte[] ToOnnx(Network network, int seed) => OnnxExport.ToBytes(network, new OnnxExportOptions
    {
        GraphName = "ecg2af_stand_in",
        DocString = Notice,
        Metadata = new Dictionary<string, string>
        {
            ["ecg2af.weights"] = Provenance.StandIn,
            ["ecg2af.seed"] = seed.ToString(CultureInfo.InvariantCulture),
        },
    });

    /// <summary>
    /// Builds the stand-in and writes <c>model.onnx</c> and <c>model.json</c> into <paramref name="versionDirectory"/>
    /// (e.g. <c>models/ecg2af/1</c>), replacing any files there. Name and version default to the directory's parent
    /// and own names. Returns the signature written.
    /// </summary>
    public static ModelSignature Write(string versionDirectory, int seed = DefaultSeed, string? name = null, string? version = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(versionDirectory);
        var full = Path.GetFullPath(versionDirectory).TrimEnd(Path.DirectorySeparatorChar);
        version ??= Path.GetFileName(full);
        name ??= Path.GetFileName(Path.GetDirectoryName(full)) ?? "ecg2af";

        var network = Build(seed);
        var cost = ModelCost.Of(network);
        var onnx = ToOnnx(network, seed);
        var signature = new ModelSignature
        {
            Name = name,
            Version = version,
            Description = "ECG2AF stand-in (ml4h 2024-default template, 2021 heads, seeded weights); not clinically meaningful.",
            Input = Ecg2AfHeads.Input(),
            Outputs = Ecg2AfHeads.Outputs2021,
            Provenance = new Provenance
            {
                Weights = Provenance.StandIn,
                Source = FormattableString.Invariant($"{typeof(StandInModel).FullName} seed={seed}"),
                SourceSha256 = ModelFiles.Sha256(onnx),
                Decoder = KnownDecoders.Ecg2Af2021,
                Parameters = cost.Parameters,
                MacsPerInput = cost.MacsPerInput,
                CreatedUtc = DateTimeOffset.UtcNow,
                Notice = Notice,
            },
        };
        ModelVersionWriter.Write(full, onnx, signature);
        return signature;
    }
}
