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

    /// <summary>Machine-readable quality flags, e.g. <c>flat_lead:V1</c>, <c>resampled:100-&gt;500</c>.</summary>
    public required IReadOnlyList<string> QualityFlags { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }
}
