using Ecg2Af.Ecg.Formats;

namespace Ecg2Af.Ecg;

/// <summary>Entry point: detects the format of an upload from its content and decodes it.</summary>
public static class EcgReader
{
    /// <summary>
    /// Reads one record from the uploaded files: one file, the parts of one record (a WFDB header and its signal
    /// files), or a <c>.zip</c> holding either. The format is found from the bytes, never from the file name.
    /// Throws <see cref="EcgFormatException"/> for anything that is not a usable ECG. Any other exception is a fault of
    /// this library or the process (<see cref="ArgumentException"/> for a null list or entry), never of the file.
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
    /// Runs a read so that the known ways hostile bytes make a parser fail leave the library as
    /// <see cref="EcgFormatException"/> (Malformed, with the parser's message, which describes the file): XML, zip and
    /// deflate errors, truncated streams, bad text encodings and number formats, and any refusal from the HDF5 and zstd
    /// libraries. Anything else (a bug here, an out-of-memory) is not the file's fault: it propagates unchanged, so the
    /// host answers 500 without exposing its text.
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
        catch (Exception ex) when (ParserFailure(ex) is { } kind)
        {
            throw kind == EcgErrorKind.TooLarge
                ? new EcgFormatException(kind, "The file declares more data than can be held.", ex)
                : new EcgFormatException(kind, $"The file could not be decoded: {ex.Message}", ex);
        }
    }

    private static readonly System.Reflection.Assembly[] ParserLibraries =
        [typeof(PureHDF.H5File).Assembly, typeof(ZstdSharp.Decompressor).Assembly];

    /// <summary>
    /// How a parser refused bad bytes (Malformed; TooLarge for an allocation the file's declared sizes made the HDF5 or
    /// zstd library attempt), or null when <paramref name="ex"/> is a fault of this service. Parser refusals are the
    /// exception types parsers throw for bad input, and any exception raised inside the HDF5 or zstd library (by it,
    /// or by the runtime beneath it) before control came back to this library's code.
    /// </summary>
    internal static EcgErrorKind? ParserFailure(Exception ex)
    {
        if (ex is System.Xml.XmlException or InvalidDataException or EndOfStreamException or FormatException
            or System.Text.DecoderFallbackException or ZstdSharp.ZstdException)
        {
            return EcgErrorKind.Malformed;
        }

        if (ex is InsufficientExecutionStackException)
        {
            return null;
        }

        var own = typeof(EcgReader).Assembly;
        foreach (var frame in new System.Diagnostics.StackTrace(ex, false).GetFrames())
        {
            var assembly = frame.GetMethod()?.DeclaringType?.Assembly;
            if (assembly == own)
            {
                return null;
            }

            if (assembly is not null && Array.IndexOf(ParserLibraries, assembly) >= 0)
            {
                return ex is OutOfMemoryException ? EcgErrorKind.TooLarge : EcgErrorKind.Malformed;
            }
        }

        return null;
    }
}
