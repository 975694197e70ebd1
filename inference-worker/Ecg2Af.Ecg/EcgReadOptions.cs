namespace Ecg2Af.Ecg;

/// <summary>What the caller can tell a reader that the file itself may not say, and the limits every read obeys.</summary>
public sealed record EcgReadOptions
{
    public static readonly EcgReadOptions Default = new();

    /// <summary>
    /// Sample rate for files that do not state one (CSV, NPY, a bare HDF5 array, a MUSE waveform without SampleBase). It
    /// overrides a rate found in a CSV preamble. Null: the file's own, else 500 Hz for exactly 5000 samples per lead
    /// (flagged <c>sample_rate_assumed:500Hz</c>), else the read fails (422) saying how to give it. MUSE without
    /// SampleBase is taken as 500 Hz, flagged.
    /// </summary>
    public double? SampleRateHz { get; init; }

    /// <summary>
    /// Units of raw values for formats without units (CSV, NPY): <c>mV</c>, <c>uV</c>, <c>V</c>. It overrides units found
    /// in a CSV preamble or header. Null: the file's own, else mV (NPY) or a documented CSV heuristic.
    /// </summary>
    public string? Units { get; init; }

    /// <summary>
    /// ADC counts per millivolt for CSV or NPY files holding raw integer counts (a CSV preamble <c>Gain</c> line says the
    /// same). Values are divided by it. Null: values are in <see cref="Units"/>.
    /// </summary>
    public double? CountsPerMillivolt { get; init; }

    /// <summary>
    /// Lead names of the columns (or rows) of files that do not name them: a CSV without a header row, a WFDB header
    /// without signal descriptions, an NPY array. Null: a CSV without a header is refused; NPY assumes
    /// <see cref="Leads.Standard12"/>.
    /// </summary>
    public IReadOnlyList<string>? LeadOrder { get; init; }

    /// <summary>
    /// ml4h HDF5: which acquisition to read. MGB layout: the group name under <c>partners_ecg_rest</c> (an ISO datetime).
    /// UK Biobank layout: the instance name (<c>instance_1</c>) or number (<c>1</c>). Null: the newest MGB acquisition,
    /// or the lowest UK Biobank instance.
    /// </summary>
    public string? Acquisition { get; init; }

    /// <summary>
    /// Score a record whose independent leads (I, II, V1–V6) are flat (no signal), with the loud flag
    /// <c>scored_with_flat_leads:&lt;leads&gt;</c>. False (the default): such a record is refused (422) naming the leads.
    /// Used by <see cref="EcgPreprocessor.Prepare(EcgRecording, InputSpec, EcgReadOptions?)"/>.
    /// </summary>
    public bool AllowFlatLeads { get; init; }

    /// <summary>Upper bound on the bytes of one upload (all files together). Larger uploads fail with TooLarge (413).</summary>
    public long MaxUploadBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Upper bound on bytes any decompression may produce (zip, gzip, zstd; all entries of one archive together).</summary>
    public long MaxDecompressedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Upper bound on the samples a file may declare, summed over its signals (a 24 h Holter is refused).</summary>
    public long MaxSamples { get; init; } = 16_000_000;

    /// <summary>Upper bound on the number of files in one zip archive.</summary>
    public int MaxArchiveEntries { get; init; } = 2_000;
}
