using System.Buffers.Binary;
using System.Text;

namespace Ecg2Af.Ecg;

/// <summary>NumPy <c>.npy</c> (versions 1–3): [T,12] or [12,T] in ECG2AF lead order, float or int, never pickled objects.</summary>
internal static class NpyReader
{
    private static ReadOnlySpan<byte> Magic => "\x93NUMPY"u8;

    public static bool CanRead(ReadOnlySpan<byte> content) => content.StartsWith(Magic);

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        var span = file.Content.Span;
        if (span.Length < 10)
        {
            throw Malformed("file ends inside the header");
        }

        var major = span[6];
        int headerLength, headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]);
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (span.Length < 12)
            {
                throw Malformed("file ends inside the header");
            }

            headerLength = checked((int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(span[8..]), int.MaxValue));
            headerStart = 12;
        }
        else
        {
            throw Malformed($"unknown format version {major}");
        }

        if (headerStart + headerLength > span.Length)
        {
            throw Malformed("file ends inside the header");
        }

        var header = Encoding.Latin1.GetString(span.Slice(headerStart, headerLength));
        var descr = HeaderValue(header, "descr").Trim('\'', '"');
        var fortran = HeaderValue(header, "fortran_order").StartsWith("True", StringComparison.Ordinal);
        var shape = HeaderValue(header, "shape").Trim('(', ')')
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, out var v) && v >= 0 ? v : throw Malformed($"bad shape '{s}'"))
            .ToArray();
        if (descr.Contains('O', StringComparison.Ordinal))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, ".npy files holding Python objects (pickles) are never read.");
        }

        if (shape.Length != 2 || (shape[0] != 12 && shape[1] != 12))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable,
                $".npy shape ({string.Join(", ", shape)}) is not [samples, 12] or [12, samples] in the order {string.Join(", ", Leads.Standard12)}.");
        }

        var itemSize = descr.Length >= 2 && int.TryParse(descr.AsSpan(2), out var size) ? size : 0;
        var kind = descr.Length >= 2 ? descr[1] : '?';
        var bigEndian = descr.StartsWith('>');
        if (!(kind == 'f' && itemSize is 4 or 8) && !(kind is 'i' or 'u' && itemSize is 1 or 2 or 4 or 8))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $".npy dtype '{descr}' is not a float or integer type.");
        }

        var count = shape[0] * shape[1];
        var data = span[(headerStart + headerLength)..];
        if (count * itemSize > data.Length)
        {
            throw Malformed($"shape ({shape[0]}, {shape[1]}) needs {count * itemSize} data bytes, the file has {data.Length}");
        }

        var leadsFirst = shape[0] == 12 && shape[1] != 12;
        var samples = (int)(leadsFirst ? shape[1] : shape[0]);
        var leads = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var c = 0; c < 12; c++)
        {
            leads[Leads.Standard12[c]] = new float[samples];
        }

        var scale = UnitScale(options.Units);
        for (long k = 0; k < count; k++)
        {
            // Row-major index (r, col) or Fortran (column-major) index.
            long r, col;
            if (fortran)
            {
                r = k % shape[0];
                col = k / shape[0];
            }
            else
            {
                r = k / shape[1];
                col = k % shape[1];
            }

            var (t, c) = leadsFirst ? (col, r) : (r, col);
            leads[Leads.Standard12[(int)c]][t] = (float)(ReadValue(data.Slice((int)(k * itemSize), itemSize), kind, bigEndian) * scale);
        }

        return new EcgRecording
        {
            Format = "npy",
            SampleRateHz = options.SampleRateHz ?? 500,
            Leads = leads,
            RecordName = Path.GetFileNameWithoutExtension(file.FileName),
            Warnings = options.SampleRateHz is null
                ? ["The .npy file carries no sample rate; 500 Hz was assumed."]
                : [],
        };
    }

    internal static double UnitScale(string? units) => units?.Trim().ToUpperInvariant() switch
    {
        null or "" or "MV" => 1,
        "UV" or "µV" or "ΜV" or "MICROVOLTS" => 1e-3,
        "V" => 1e3,
        _ => throw new EcgFormatException(EcgErrorKind.Malformed, $"Unknown units '{units}'; expected mV, uV or V."),
    };

    private static double ReadValue(ReadOnlySpan<byte> b, char kind, bool bigEndian) => (kind, b.Length) switch
    {
        ('f', 4) => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
        ('f', 8) => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b),
        ('i', 1) => (sbyte)b[0],
        ('u', 1) => b[0],
        ('i', 2) => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
        ('u', 2) => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b),
        ('i', 4) => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
        ('u', 4) => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b),
        ('i', 8) => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
        _ => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b),
    };

    private static string HeaderValue(string header, string key)
    {
        var at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0)
        {
            throw Malformed($"header has no '{key}'");
        }

        var colon = header.IndexOf(':', at);
        var rest = header[(colon + 1)..].TrimStart();
        var end = rest.StartsWith('(') ? rest.IndexOf(')', StringComparison.Ordinal) + 1 : rest.IndexOfAny([',', '}']);
        return (end <= 0 ? rest : rest[..end]).Trim();
    }

    private static EcgFormatException Malformed(string what) =>
        new(EcgErrorKind.Malformed, $"Not a valid .npy file: {what}.");
}
