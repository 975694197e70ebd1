namespace Ecg2Af.Ecg;

/// <summary>What the caller can tell a reader that the file itself may not say.</summary>
public sealed record EcgReadOptions
{
    public static readonly EcgReadOptions Default = new();

    /// <summary>Sample rate for formats that do not carry one (CSV, NPY). Null: the format's own or a documented default.</summary>
    public double? SampleRateHz { get; init; }

    /// <summary>Units of raw values for formats without units (CSV, NPY): <c>mV</c>, <c>uV</c>, <c>V</c>. Null: mV.</summary>
    public string? Units { get; init; }

    /// <summary>ml4h MGB HDF5: which acquisition (group name) to read. Null: the newest.</summary>
    public string? Acquisition { get; init; }

    /// <summary>Upper bound on bytes any decompression may produce.</summary>
    public long MaxDecompressedBytes { get; init; } = 64L * 1024 * 1024;
}
