using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// The one rule for files that carry no sample rate (NPY, a bare HDF5 array, a CSV without a rate line): the request
/// gives it; an array of exactly 5000 samples per lead is taken as 10 s at 500 Hz, flagged; anything else is refused
/// with a message that says how to give the rate. No other rate is ever guessed.
/// </summary>
internal static class SampleRates
{
    public const string HowToGive =
        "Give the rate as sample_rate_hz (a form field or query parameter of the web page, the prediction, batch and preprocess endpoints) or with ecg2af --sample-rate.";

    public static double Resolve(double? given, long samples, RecordingBuilder builder, string what)
    {
        if (given is { } fs)
        {
            return fs;
        }

        if (samples == 5000)
        {
            builder.Warnings.Add($"{what} states no sample rate; its 5000 samples per lead were taken as 10 s at 500 Hz. {HowToGive}");
            builder.Flags.Add("sample_rate_assumed:500Hz");
            return 500;
        }

        throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
            $"{what} states no sample rate ({samples} samples per lead), and only exactly 5000 samples are taken as 10 s at 500 Hz. {HowToGive}"));
    }
}
