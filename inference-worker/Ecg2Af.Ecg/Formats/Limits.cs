using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>Checks of declared sizes against <see cref="EcgReadOptions"/>, made before anything is allocated.</summary>
internal static class Limits
{
    /// <summary>Refuses a file that declares more samples (over all its signals) than allowed.</summary>
    public static void CheckSamples(long declared, EcgReadOptions options, string what)
    {
        if (declared < 0 || declared > options.MaxSamples)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"{what} declares {declared} samples; at most {options.MaxSamples} are accepted."));
        }
    }

    /// <summary>Refuses a decompressed size over the limit.</summary>
    public static void CheckDecompressed(long bytes, EcgReadOptions options, string what)
    {
        if (bytes < 0 || bytes > options.MaxDecompressedBytes)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"{what} decompresses to more than {options.MaxDecompressedBytes} bytes."));
        }
    }
}
