using Ecg2Af.Inference.Decoding;

namespace Ecg2Af.Inference.Scoring;

/// <summary>The JSON answer to one prediction (architecture.md "Contracts"), serialised in snake_case.</summary>
public sealed record PredictionResponse
{
    public required string Id { get; init; }

    public required ModelInfo Model { get; init; }

    public required InputInfo Input { get; init; }

    public required PredictionResult Result { get; init; }

    public required IReadOnlyDictionary<string, double> TimingMs { get; init; }

    /// <summary>Plain-language caveat shown with every result (stand-in weights, research use only).</summary>
    public required string Notice { get; init; }
}

public sealed record ModelInfo(
    string Name,
    string Version,
    string Sha256,
    string Weights,
    string ExecutionProvider,
    string? Decoder)
{
    /// <summary>
    /// The graph ONNX Runtime ran, when it is not <c>model.onnx</c> as stored: its rewrite (<c>conv1d-as-2d</c>) and that
    /// graph's SHA-256. <see cref="Sha256"/> stays the file's, which is what a reader can check against the repository.
    /// </summary>
    public string? GraphRewrite { get; init; }

    public string? ServedGraphSha256 { get; init; }
}

public sealed record InputInfo(
    string Format,
    string? RecordName,
    double SourceSampleRateHz,
    double SourceDurationS,
    IReadOnlyList<string> LeadsPresent,
    IReadOnlyList<string> LeadsDerived,
    bool Resampled,
    bool Cropped,
    bool Padded,
    IReadOnlyList<string> Warnings);
