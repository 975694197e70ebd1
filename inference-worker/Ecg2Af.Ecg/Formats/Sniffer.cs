namespace Ecg2Af.Ecg.Formats;

/// <summary>Format detection from content alone (the file name is never trusted), and the dispatch to a reader.</summary>
internal static class Sniffer
{
    public const string Expected =
        "Expected: GE MUSE XML, HL7 aECG XML, Philips Sierra ECG XML, SCP-ECG, WFDB (.hea with its .dat/.mat), DICOM ECG waveform, EDF/BDF, ml4h HDF5, NumPy .npy, CSV/TSV, or a .zip of one record.";

    /// <summary>Reads one file that is not part of a WFDB record.</summary>
    public static EcgRecording ReadSingle(EcgFile file, EcgReadOptions options)
    {
        var span = file.Content.Span;
        if (span.IsEmpty)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"'{file.FileName}' is empty.");
        }

        if (NpyReader.CanRead(span))
        {
            return NpyReader.Read(file, options);
        }

        if (Ml4hHdf5Reader.CanRead(span))
        {
            return Ml4hHdf5Reader.Read(file, options);
        }

        if (DicomDataset.IsDicom(span))
        {
            return DicomWaveformReader.Read(file, options);
        }

        if (ScpEcgReader.CanRead(span))
        {
            return ScpEcgReader.Read(file, options);
        }

        if (EdfReader.CanRead(span))
        {
            return EdfReader.Read(file, options);
        }

        if (KnownBinary(span) is { } what)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"'{file.FileName}' is {what}, not an ECG format this service reads. {Expected}");
        }

        if (IsXml(span))
        {
            return ReadXml(file, options);
        }

        if (CsvReader.LooksLikeText(span))
        {
            if (WfdbHeader.TryParse(span) is { } header)
            {
                return WfdbReader.Read(file, header, [], options); // fails naming the missing signal file
            }

            return CsvReader.Read(file, options);
        }

        throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
            $"'{file.FileName}' is not an ECG format this service reads. {Expected} A WFDB signal file needs its .hea header in the same upload.");
    }

    private static EcgRecording ReadXml(EcgFile file, EcgReadOptions options)
    {
        var root = SafeXml.RootName(file.Content, options);
        return root switch
        {
            MuseXmlReader.RootElement => MuseXmlReader.Read(file, options),
            Hl7AecgReader.RootElement => Hl7AecgReader.Read(file, options),
            null => throw new EcgFormatException(EcgErrorKind.Malformed, $"'{file.FileName}' looks like XML but is not well-formed."),
            PhilipsXmlReader.RootElement => PhilipsXmlReader.Read(file, options),
            "CardiologyXML" => throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                "GE CardioSoft XML is not read. Export the ECG as GE MUSE XML, HL7 aECG XML, DICOM or CSV."),
            _ => throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                $"'{file.FileName}' is XML with root element <{SafeXml.Clip(root)}>, not an ECG format this service reads. {Expected}"),
        };
    }

    private static bool IsXml(ReadOnlySpan<byte> span)
    {
        // UTF-16 with a BOM: Philips XML, or the tab-separated text of Excel's "Unicode text" export. XML when the first
        // character that is not white space is '<'.
        var littleEndian = span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]);
        if (littleEndian || span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            for (var i = 2; i + 1 < span.Length; i += 2)
            {
                var (low, high) = littleEndian ? (span[i], span[i + 1]) : (span[i + 1], span[i]);
                if (high != 0 || low is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return high == 0 && low == '<';
                }
            }

            return false;
        }

        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }

        var text = span.TrimStart(" \t\r\n"u8);
        return !text.IsEmpty && text[0] == '<';
    }

    private static string? KnownBinary(ReadOnlySpan<byte> span) => span switch
    {
        _ when Archive.IsZip(span) => "a zip archive inside an archive (archives are opened one level deep)",
        _ when Archive.IsGzip(span) => "gzip data inside an archive (archives are opened one level deep)",
        _ when span.StartsWith("%PDF"u8) => "a PDF document (an ECG printout cannot be read as signals)",
        _ when span.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) => "a PNG image",
        _ when span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) => "a JPEG image",
        _ when span.StartsWith("GIF8"u8) => "a GIF image",
        _ when span.StartsWith("MATLAB 5.0 MAT-file"u8) => "a MATLAB v5 file (upload the PhysioNet .hea header with a Challenge .mat)",
        _ when span.StartsWith("7z"u8) && span.Length > 2 && span[2] == 0xBC => "a 7-Zip archive (only .zip is opened)",
        _ when span.StartsWith("Rar!"u8) => "a RAR archive (only .zip is opened)",
        _ => null,
    };
}
