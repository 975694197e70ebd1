using Ecg2Af.Ecg;

namespace Ecg2Af.Inference.Scoring;

/// <summary>How the model input was normalised.</summary>
public sealed record NormalizationFacts(NormalizationKind Kind, double Mean, double Std, double Epsilon);

/// <summary>The model stage of preprocessing: <c>Data[t][c]</c> is exactly the tensor row the model receives.</summary>
public sealed record ModelInputView(
    string Model,
    string Version,
    string InputName,
    IReadOnlyList<string> Leads,
    double SampleRateHz,
    int Samples,
    NormalizationFacts Normalization,
    string Format,
    IReadOnlyList<string> LeadsDerived,
    IReadOnlyList<string> QualityFlags,
    IReadOnlyList<string> Warnings,
    float[][] Data)
{
    public static ModelInputView From(ModelSignature signature, ScoringInput input)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(input);
        var prepared = input.Prepared;
        var channels = prepared.Leads.Count;
        var rows = new float[prepared.Samples][];
        for (var t = 0; t < rows.Length; t++)
        {
            rows[t] = prepared.Data.AsSpan(t * channels, channels).ToArray();
        }

        var spec = signature.Input;
        return new ModelInputView(signature.Name, signature.Version, spec.Name, prepared.Leads, spec.SampleRateHz, prepared.Samples,
            new NormalizationFacts(spec.Normalization, prepared.Mean, prepared.Std, spec.Epsilon),
            input.Recording.Format, prepared.LeadsDerived, prepared.QualityFlags, prepared.Warnings, rows);
    }
}

/// <summary>The millivolt stage: each lead at the source rate, with the derivable limb leads added for display.</summary>
public sealed record MillivoltView(
    string Format,
    string? RecordName,
    double SampleRateHz,
    int Samples,
    string Units,
    IReadOnlyDictionary<string, float[]> Leads,
    IReadOnlyList<string> LeadsDerived,
    IReadOnlyList<string> QualityFlags,
    IReadOnlyList<string> Warnings)
{
    public static MillivoltView From(EcgRecording recording)
    {
        var (complete, derived) = DerivedLeads.Complete(recording);
        return new MillivoltView(
            complete.Format,
            complete.RecordName,
            complete.SampleRateHz,
            complete.SampleCount,
            "mV",
            Ecg.Leads.Standard12.Where(complete.Leads.ContainsKey).ToDictionary(l => l, l => complete.Leads[l]),
            derived,
            complete.QualityFlags,
            complete.Warnings);
    }
}
