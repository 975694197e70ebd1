using System.CommandLine;

namespace Ecg2Af.Cli;

/// <summary>
/// The reading hints every command that reads ECGs takes, named as the API's form fields are (<c>sample_rate_hz</c>,
/// <c>units</c>, <c>allow_flat_leads</c>): one definition, so that <c>predict</c> and <c>preprocess</c> cannot drift apart.
/// </summary>
internal static class ReadingOptions
{
    public static Option<double?> SampleRate() => new("--sample-rate", "--sample-rate-hz")
    {
        Description = "Sample rate in Hz for files that state none (NPY, a CSV without a rate line, a bare HDF5 array, MUSE without SampleBase). "
            + "Without it only exactly 5000 samples per lead are read (as 10 s at 500 Hz, flagged).",
    };

    public static Option<string?> Units() => new("--units")
    {
        Description = "Units of raw values for formats that carry none: mV, uV or V.",
    };

    public static Option<bool> AllowFlatLeads() => new("--allow-flat-leads")
    {
        Description = "Score a record whose I, II or V1-V6 are flat anyway, with the flag scored_with_flat_leads (refused by default).",
    };
}
