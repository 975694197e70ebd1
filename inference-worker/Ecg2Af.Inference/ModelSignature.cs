using System.Text.Json;
using System.Text.Json.Serialization;
using Ecg2Af.Ecg;

namespace Ecg2Af.Inference;

/// <summary>
/// The <c>model.json</c> beside each <c>model.onnx</c>: what the graph expects as input, what each output head means
/// and how to decode it, and where the weights came from.
/// </summary>
public sealed record ModelSignature
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public string? Description { get; init; }

    public required SignatureInput Input { get; init; }

    /// <summary>Output heads, in the graph's output order.</summary>
    public required IReadOnlyList<SignatureOutput> Outputs { get; init; }

    public required Provenance Provenance { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static ModelSignature Load(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<ModelSignature>(stream, JsonOptions)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions));
}

/// <summary>The graph's single input.</summary>
public sealed record SignatureInput
{
    /// <summary>ONNX input name, e.g. <c>input_ecg_5000_std_continuous</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Tensor layout; <c>NTC</c> = [batch, samples, leads].</summary>
    public string Layout { get; init; } = "NTC";

    public required int Samples { get; init; }

    public required double SampleRateHz { get; init; }

    public required IReadOnlyList<string> Leads { get; init; }

    public LengthPolicy LengthPolicy { get; init; } = LengthPolicy.Resample;

    public NormalizationKind Normalization { get; init; } = NormalizationKind.GlobalZScore;

    public double Epsilon { get; init; } = 1e-6;

    public string Units { get; init; } = "mV";

    public InputSpec ToInputSpec() => new()
    {
        Leads = Leads,
        Samples = Samples,
        SampleRateHz = SampleRateHz,
        LengthPolicy = LengthPolicy,
        Normalization = Normalization,
        Epsilon = Epsilon,
        Units = Units,
    };
}

/// <summary>How an output head is read.</summary>
public enum HeadKind
{
    /// <summary>Discrete-time survival: sigmoid outputs y[i] = P(event-free through bin i | event-free at its start).</summary>
    SurvivalCurve,

    /// <summary>Softmax over <see cref="SignatureOutput.Labels"/>.</summary>
    Categorical,

    /// <summary>Independent sigmoid per label.</summary>
    Multilabel,

    /// <summary>One linear value; decoded as <c>value × Scale + Offset</c>.</summary>
    Continuous,
}

/// <summary>What a head means to the product: the prediction response fills its named fields from these.</summary>
public enum HeadRole
{
    /// <summary>No product field: reported only under the generic outputs.</summary>
    None,
    AfSurvival,
    DeathSurvival,
    Sex,
    Age,
    AfInEcg,
    Labels,
}

/// <summary>One output head.</summary>
public sealed record SignatureOutput
{
    /// <summary>ONNX output name (the Keras output layer name).</summary>
    public required string Name { get; init; }

    /// <summary>Width of the head (per batch item).</summary>
    public required int Size { get; init; }

    public required HeadKind Kind { get; init; }

    public HeadRole Role { get; init; } = HeadRole.None;

    /// <summary>Class names for categorical and multi-label heads, in channel order.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>Survival heads: how many leading outputs are trained bins (25 for ECG2AF; the rest are unused).</summary>
    public int? Bins { get; init; }

    /// <summary>Survival heads: width of one bin in days (73 for the 2021 model, 146.1 for the 2024 model).</summary>
    public double? DaysPerBin { get; init; }

    /// <summary>Continuous heads: affine back-transform and its unit.</summary>
    public double? Scale { get; init; }

    public double? Offset { get; init; }

    public string? Unit { get; init; }
}

/// <summary>Where the weights came from. <see cref="Weights"/> is <c>stand-in</c> or <c>imported</c>.</summary>
public sealed record Provenance
{
    public const string StandIn = "stand-in";
    public const string Imported = "imported";

    public required string Weights { get; init; }

    /// <summary>The file the model was built or imported from, or the builder's name.</summary>
    public required string Source { get; init; }

    /// <summary>SHA-256 (hex) of the source file for imports; of <c>model.onnx</c> for the stand-in.</summary>
    public string? SourceSha256 { get; init; }

    public string? Decoder { get; init; }

    public long? Parameters { get; init; }

    public long? MacsPerInput { get; init; }

    public DateTimeOffset? CreatedUtc { get; init; }

    public string? Notice { get; init; }
}
