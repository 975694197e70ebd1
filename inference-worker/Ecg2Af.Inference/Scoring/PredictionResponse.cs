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

    /// <summary>
    /// The decoded millivolt leads of the same upload (the <c>ecg:preprocess?stage=mv</c> view), only when the client
    /// asks for them (<c>include=leads_mv</c>): the web page draws the ECG from the one upload it scores.
    /// </summary>
    public MillivoltView? LeadsMv { get; init; }
}

public sealed record ModelInfo(
    string Name,
    string Version,
    string Sha256,
    string Weights,
    string ExecutionProvider,
    string? Decoder);

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
