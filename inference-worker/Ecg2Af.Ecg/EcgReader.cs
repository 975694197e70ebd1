using Ecg2Af.Ecg.Formats;

namespace Ecg2Af.Ecg;

/// <summary>Entry point: detects the format of an upload from its content and decodes it.</summary>
public static class EcgReader
{
    /// <summary>
    /// Reads one record from the uploaded files: one file, the parts of one record (a WFDB header and its signal
    /// files), or a <c>.zip</c> holding either. The format is found from the bytes, never from the file name.
    /// Throws <see cref="EcgFormatException"/> for anything that is not a usable ECG, and no other exception (except
    /// <see cref="ArgumentException"/> for a null list or entry, a programming error).
    /// </summary>
    public static EcgRecording Read(IReadOnlyList<EcgFile> files, EcgReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Any(f => f is null))
        {
            throw new ArgumentException("The list of files holds a null entry.", nameof(files));
        }

        options ??= EcgReadOptions.Default;
        if (files.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "No ECG file was uploaded.");
        }

        return Guard(() => ReadParts(Archive.Expand(files, options), options));
    }

    /// <summary>Reads one record from a single file.</summary>
    public static EcgRecording Read(EcgFile file, EcgReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Read([file], options);
    }

    internal static EcgRecording ReadParts(List<EcgFile> parts, EcgReadOptions options)
    {
        var headers = new List<(EcgFile File, WfdbHeader Header)>();
        foreach (var part in parts)
        {
            if (WfdbHeader.TryParse(part.Content.Span) is { } header)
            {
                headers.Add((part, header));
            }
        }

        if (headers.Count == 1)
        {
            return WfdbReader.Read(headers[0].File, headers[0].Header, parts, options);
        }

        if (headers.Count > 1)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed,
                $"The upload holds {headers.Count} WFDB records ({string.Join(", ", headers.Select(h => h.Header.RecordName).Take(10))}); send one record per request, or use the batch upload.");
        }

        if (parts.Count > 1)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed,
                $"The upload holds {parts.Count} files that do not form one WFDB record ({string.Join(", ", parts.Select(p => Path.GetFileName(p.FileName)).Take(10))}). Send one ECG file, a WFDB header with its signal files, or use the batch upload.");
        }

        return Sniffer.ReadSingle(parts[0], options);
    }

    /// <summary>
    /// Runs a read so that only <see cref="EcgFormatException"/> leaves the library. Anything else a reader or a
    /// library beneath it throws on hostile bytes (a PureHDF parse error, an XML error, a bad zip) is reported as
    /// Malformed with its message.
    /// </summary>
    internal static T Guard<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (EcgFormatException)
        {
            throw;
        }
        catch (OutOfMemoryException ex)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, "The file declares more data than can be held.", ex);
        }
        catch (Exception ex)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"The file could not be decoded: {ex.Message}", ex);
        }
    }
}
