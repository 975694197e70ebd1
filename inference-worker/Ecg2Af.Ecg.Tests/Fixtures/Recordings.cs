namespace Ecg2Af.Ecg.Tests.Fixtures;

/// <summary>Small helpers to derive test records from real ones.</summary>
internal static class Recordings
{
    /// <summary>All 12 leads (III, aVR, aVL, aVF derived when absent), in mV, in the ECG2AF order.</summary>
    public static Dictionary<string, float[]> Twelve(EcgRecording recording)
    {
        var leads = recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        EcgPreprocessor.DeriveLimbLeads(leads, Leads.Standard12);
        return Leads.Standard12.ToDictionary(l => l, l => leads[l], StringComparer.Ordinal);
    }

    public static EcgRecording With(EcgRecording source, IReadOnlyDictionary<string, float[]> leads, double? sampleRateHz = null) => new()
    {
        Format = source.Format,
        SampleRateHz = sampleRateHz ?? source.SampleRateHz,
        Leads = leads,
        RecordName = source.RecordName,
        QuantizationStepMv = source.QuantizationStepMv,
    };

    /// <summary>The model input without normalisation, in mV: the values the leads really have after resampling.</summary>
    public static InputSpec RawMillivolts(int samples = 5000) => InputSpec.Ecg2Af with
    {
        Samples = samples,
        Normalization = NormalizationKind.None,
    };

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Lengths differ: {a.Length} and {b.Length}.", nameof(b));
        }

        var worst = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        }

        return worst;
    }
}
