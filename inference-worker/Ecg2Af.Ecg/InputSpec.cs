namespace Ecg2Af.Ecg;

/// <summary>How a record's length is brought to the model's sample count.</summary>
public enum LengthPolicy
{
    /// <summary>
    /// ECG2AF: resample to <see cref="InputSpec.SampleRateHz"/>, use the first
    /// <see cref="InputSpec.DurationSeconds"/> seconds, refuse shorter records.
    /// </summary>
    Resample,

    /// <summary>Resample to the model rate, then crop to or zero-pad at the end up to <see cref="InputSpec.Samples"/>.</summary>
    Pad,
}

/// <summary>Input normalisation applied after stacking the leads.</summary>
public enum NormalizationKind
{
    /// <summary>None: values in <see cref="InputSpec.Units"/>.</summary>
    None,

    /// <summary>One z-score over the whole [samples, leads] array: (x − mean) / (population std + epsilon).</summary>
    GlobalZScore,
}

/// <summary>The model input a record must be turned into: what the preprocessor needs from a model signature.</summary>
public sealed record InputSpec
{
    /// <summary>Channel order of the input tensor's last axis.</summary>
    public required IReadOnlyList<string> Leads { get; init; }

    public required int Samples { get; init; }

    public required double SampleRateHz { get; init; }

    public LengthPolicy LengthPolicy { get; init; } = LengthPolicy.Resample;

    public NormalizationKind Normalization { get; init; } = NormalizationKind.GlobalZScore;

    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Units of the values fed to the model when <see cref="Normalization"/> is None: <c>mV</c> or <c>uV</c>.</summary>
    public string Units { get; init; } = "mV";

    public double DurationSeconds => Samples / SampleRateHz;

    /// <summary>The ECG2AF input: 12 leads, 5000 samples at 500 Hz, global z-score with eps 1e-6.</summary>
    public static InputSpec Ecg2Af { get; } = new()
    {
        Leads = Ecg.Leads.Standard12,
        Samples = 5000,
        SampleRateHz = 500,
    };
}
