namespace Ecg2Af.Ecg;

/// <summary>
/// A decoded resting ECG: leads by canonical name (see <see cref="Leads"/>), in millivolts, all at one sample rate
/// and of equal length, plus what the reader learned about the source.
/// </summary>
public sealed class EcgRecording
{
    /// <summary>Short format id, e.g. <c>ge-muse-xml</c>, <c>ml4h-hdf5-ukb</c>, <c>npy</c>.</summary>
    public required string Format { get; init; }

    public required double SampleRateHz { get; init; }

    /// <summary>Canonical lead name to samples in millivolts. Every array has the same length.</summary>
    public required IReadOnlyDictionary<string, float[]> Leads { get; init; }

    /// <summary>Record name when the format carries one (WFDB record, file stem), else null.</summary>
    public string? RecordName { get; init; }

    /// <summary>Facts about the source a user should know (declared units, ignored leads, gain oddities).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// Machine-readable findings of the reader, in the same <c>kind:detail</c> style as
    /// <see cref="PreparedEcg.QualityFlags"/> (e.g. <c>checksum_mismatch:V2</c>, <c>sample_rate_assumed:500Hz</c>).
    /// </summary>
    public IReadOnlyList<string> QualityFlags { get; init; } = [];

    /// <summary>
    /// The coarsest amplitude step of the stored leads in mV (one ADC count), when the format says it; null for float
    /// data. Used to judge whether leads agree "within one quantisation step".
    /// </summary>
    public double? QuantizationStepMv { get; init; }

    public int SampleCount => Leads.Count == 0 ? 0 : Leads.Values.First().Length;

    public double DurationSeconds => SampleRateHz > 0 ? SampleCount / SampleRateHz : 0;
}
