namespace Ecg2Af.Ecg;

/// <summary>Entry point: detects the format of an upload from its content and decodes it.</summary>
public static class EcgReader
{
    /// <summary>
    /// Reads one record from the uploaded files (one file, or the parts of one record such as a WFDB header and its
    /// data file). Throws <see cref="EcgFormatException"/> for anything that is not a usable ECG.
    /// </summary>
    public static EcgRecording Read(IReadOnlyList<EcgFile> files, EcgReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        options ??= EcgReadOptions.Default;
        if (files.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "No ECG file was uploaded.");
        }

        var file = files[0];
        if (NpyReader.CanRead(file.Content.Span))
        {
            return NpyReader.Read(file, options);
        }

        throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
            $"'{file.FileName}' is not an ECG format this service reads. Expected: NumPy .npy [5000,12].");
    }
}
