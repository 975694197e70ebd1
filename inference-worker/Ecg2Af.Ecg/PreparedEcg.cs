namespace Ecg2Af.Ecg;

/// <summary>One ECG turned into a model input, with the facts of what was done to it.</summary>
public sealed class PreparedEcg
{
    /// <summary>Model input, time-major: <c>Data[t * leads + c]</c>, length <c>Samples × Leads.Count</c>.</summary>
    public required float[] Data { get; init; }

    public required IReadOnlyList<string> Leads { get; init; }

    public required int Samples { get; init; }

    /// <summary>Mean and std removed by normalisation (in mV); 0 and 1 when none was applied.</summary>
    public required double Mean { get; init; }

    public required double Std { get; init; }

    public required IReadOnlyList<string> LeadsPresent { get; init; }

    public required IReadOnlyList<string> LeadsDerived { get; init; }

    public required bool Resampled { get; init; }

    public required bool Cropped { get; init; }

    public required bool Padded { get; init; }

    /// <summary>
    /// Machine-readable quality flags, <c>kind</c> or <c>kind:detail</c>. Kinds: <c>flat_lead</c>, <c>derived_lead</c> (missing, computed
    /// from I and II), <c>non_finite</c>, <c>clipping</c>, <c>amplitude_high</c>, <c>amplitude_low</c>,
    /// <c>lead_residual</c>, <c>resampled</c>, <c>cropped</c>, <c>zero_padded</c>, plus the reader's own
    /// (<see cref="EcgRecording.QualityFlags"/>).
    /// </summary>
    public required IReadOnlyList<string> QualityFlags { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>The recording's own sample rate before resampling.</summary>
    public double SourceSampleRateHz { get; init; }

    /// <summary>The recording's length in seconds before cropping or padding.</summary>
    public double SourceDurationSeconds { get; init; }
}
