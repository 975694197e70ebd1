using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// A minimal DICOM Part 10 parser, enough for the waveform module: preamble + <c>DICM</c>, the explicit-VR meta group,
/// then an implicit or explicit VR little-endian data set (deflated explicit VR too), with nested sequences of defined
/// or undefined length. Values stay slices of the input; nothing is interpreted that the reader does not ask for.
/// </summary>
internal sealed class DicomDataset
{
    public const uint WaveformSequence = 0x5400_0100;

    private const uint Item = 0xFFFE_E000;
    private const uint ItemDelimiter = 0xFFFE_E00D;
    private const uint SequenceDelimiter = 0xFFFE_E0DD;
    private const uint Undefined = 0xFFFF_FFFF;
    private const int MaxDepth = 12;
    private const int MaxElements = 200_000;

    // Tags the waveform reader navigates that are sequences: needed for implicit VR, where the VR is not written.
    private static readonly HashSet<uint> KnownSequences =
    [
        WaveformSequence, 0x003A_0200, 0x003A_0208, 0x003A_0211, 0x0040_A0B0, 0x0040_0260, 0x0008_1110, 0x0008_1115,
    ];

    private static readonly HashSet<string> LongVrs = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];

    private readonly Dictionary<uint, Element> _elements = [];

    private sealed record Element(ReadOnlyMemory<byte> Value, List<DicomDataset>? Items);

    public static bool IsDicom(ReadOnlySpan<byte> content) =>
        content.Length >= 132 && content.Slice(128, 4).SequenceEqual("DICM"u8);

    /// <summary>Parses a Part 10 file and returns its transfer syntax UID and data set.</summary>
    public static (string TransferSyntax, DicomDataset Data) Parse(ReadOnlyMemory<byte> file, EcgReadOptions options)
    {
        var budget = MaxElements;
        var position = 132;
        var meta = new DicomDataset();
        var span = file.Span;

        // The meta group (0002) is always explicit VR little endian.
        while (position + 8 <= file.Length && BinaryPrimitives.ReadUInt16LittleEndian(span[position..]) == 0x0002)
        {
            position = meta.ReadElement(file, position, explicitVr: true, depth: 0, ref budget);
        }

        var syntax = meta.String(0x0002_0010) ?? "1.2.840.10008.1.2";
        var body = file[position..];
        var explicitVr = syntax switch
        {
            "1.2.840.10008.1.2" => false,
            "1.2.840.10008.1.2.1" => true,
            "1.2.840.10008.1.2.1.99" => true,
            "1.2.840.10008.1.2.2" => throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                "DICOM explicit VR big endian (a retired transfer syntax) is not read."),
            _ => throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                $"DICOM transfer syntax {SafeXml.Clip(syntax)} is not read; waveforms use uncompressed little endian."),
        };
        if (syntax == "1.2.840.10008.1.2.1.99")
        {
            using var inflate = new DeflateStream(Streams.Open(body), CompressionMode.Decompress);
            body = Streams.ReadBounded(inflate, options.MaxDecompressedBytes, "The deflated DICOM data set");
        }

        var data = new DicomDataset();
        data.ReadAll(body, explicitVr, depth: 0, ref budget);
        return (syntax, data);
    }

    public bool Contains(uint tag) => _elements.ContainsKey(tag);

    public IReadOnlyList<DicomDataset> Sequence(uint tag) =>
        _elements.TryGetValue(tag, out var e) && e.Items is not null ? e.Items : [];

    public ReadOnlyMemory<byte>? Bytes(uint tag) => _elements.TryGetValue(tag, out var e) && e.Items is null ? e.Value : null;

    /// <summary>A text value (first of a multi-value), trimmed of padding; null when absent.</summary>
    public string? String(uint tag)
    {
        if (Bytes(tag) is not { } bytes)
        {
            return null;
        }

        var text = Encoding.Latin1.GetString(bytes.Span).TrimEnd('\0', ' ').Trim();
        var separator = text.IndexOf('\\', StringComparison.Ordinal);
        return separator >= 0 ? text[..separator] : text;
    }

    /// <summary>A decimal-string (DS) or integer-string value.</summary>
    public double? Number(uint tag) =>
        String(tag) is { Length: > 0 } s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : null;

    /// <summary>An unsigned binary value (US or UL), read by its length.</summary>
    public long? Unsigned(uint tag) => Bytes(tag) is { } b
        ? b.Length switch
        {
            >= 4 => BinaryPrimitives.ReadUInt32LittleEndian(b.Span),
            >= 2 => BinaryPrimitives.ReadUInt16LittleEndian(b.Span),
            _ => null,
        }
        : null;

    private void ReadAll(ReadOnlyMemory<byte> data, bool explicitVr, int depth, ref int budget)
    {
        var position = 0;
        while (position < data.Length)
        {
            position = ReadElement(data, position, explicitVr, depth, ref budget);
        }
    }

    /// <summary>Reads one element at <paramref name="position"/> into this data set; returns the position after it.</summary>
    private int ReadElement(ReadOnlyMemory<byte> data, int position, bool explicitVr, int depth, ref int budget)
    {
        if (--budget < 0)
        {
            throw Malformed("too many elements");
        }

        var span = data.Span;
        var tag = ReadTag(span, position);
        position += 4;
        string? vr = null;
        uint length;
        if (explicitVr && (tag >> 16) != 0xFFFE)
        {
            Need(span, position, 4);
            vr = Encoding.ASCII.GetString(span.Slice(position, 2));
            if (LongVrs.Contains(vr))
            {
                Need(span, position, 8);
                length = BinaryPrimitives.ReadUInt32LittleEndian(span[(position + 4)..]);
                position += 8;
            }
            else
            {
                length = BinaryPrimitives.ReadUInt16LittleEndian(span[(position + 2)..]);
                position += 4;
            }
        }
        else
        {
            Need(span, position, 4);
            length = BinaryPrimitives.ReadUInt32LittleEndian(span[position..]);
            position += 4;
        }

        var isSequence = vr == "SQ" || (vr is null or "UN" && (KnownSequences.Contains(tag) || length == Undefined));
        if (length == Undefined)
        {
            if (!isSequence && vr is not ("OB" or "OW"))
            {
                throw Malformed($"element {TagText(tag)} has undefined length");
            }

            // An encapsulated OB/OW value (compressed pixel data) is a list of raw fragments: skipped, never parsed.
            var (items, end) = ReadItems(data, position, int.MaxValue, explicitVr, depth, ref budget, raw: !isSequence);
            _elements.TryAdd(tag, new Element(ReadOnlyMemory<byte>.Empty, isSequence ? items : null));
            return end;
        }

        if (length > data.Length - position)
        {
            throw Malformed($"element {TagText(tag)} declares {length} bytes; {data.Length - position} remain");
        }

        var value = data.Slice(position, (int)length);
        List<DicomDataset>? parsed = null;
        if (isSequence)
        {
            (parsed, _) = ReadItems(value, 0, value.Length, explicitVr, depth, ref budget, raw: false);
        }

        _elements.TryAdd(tag, new Element(value, parsed));
        return position + (int)length;
    }

    /// <summary>Reads sequence items from <paramref name="position"/> until the end or a sequence delimiter.</summary>
    private static (List<DicomDataset> Items, int End) ReadItems(ReadOnlyMemory<byte> data, int position, int end, bool explicitVr,
        int depth, ref int budget, bool raw)
    {
        if (depth >= MaxDepth)
        {
            throw Malformed("sequences nest too deeply");
        }

        var items = new List<DicomDataset>();
        var span = data.Span;
        while (position < Math.Min(end, data.Length))
        {
            var tag = ReadTag(span, position);
            Need(span, position + 4, 4);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(span[(position + 4)..]);
            position += 8;
            if (tag == SequenceDelimiter)
            {
                return (items, position);
            }

            if (tag != Item)
            {
                throw Malformed($"expected a sequence item, found {TagText(tag)}");
            }

            if (--budget < 0)
            {
                throw Malformed("too many elements");
            }

            var item = new DicomDataset();
            if (raw && length != Undefined)
            {
                if (length > data.Length - position)
                {
                    throw Malformed("a fragment runs past the end of the file");
                }

                position += (int)length;
                continue;
            }

            if (length == Undefined)
            {
                while (true)
                {
                    var next = ReadTag(span, position);
                    if (next == ItemDelimiter)
                    {
                        position += 8;
                        break;
                    }

                    position = item.ReadElement(data, position, explicitVr, depth + 1, ref budget);
                }
            }
            else
            {
                if (length > data.Length - position)
                {
                    throw Malformed("a sequence item runs past the end of the file");
                }

                item.ReadAll(data.Slice(position, (int)length), explicitVr, depth + 1, ref budget);
                position += (int)length;
            }

            items.Add(item);
        }

        if (end == int.MaxValue)
        {
            throw Malformed("a sequence of undefined length has no delimiter");
        }

        return (items, position);
    }

    private static uint ReadTag(ReadOnlySpan<byte> span, int position)
    {
        Need(span, position, 4);
        return ((uint)BinaryPrimitives.ReadUInt16LittleEndian(span[position..]) << 16)
            | BinaryPrimitives.ReadUInt16LittleEndian(span[(position + 2)..]);
    }

    private static void Need(ReadOnlySpan<byte> span, int position, int bytes)
    {
        if (position < 0 || position > span.Length - bytes)
        {
            throw Malformed("the file ends inside an element");
        }
    }

    private static string TagText(uint tag) => string.Create(CultureInfo.InvariantCulture, $"({tag >> 16:X4},{tag & 0xFFFF:X4})");

    private static EcgFormatException Malformed(string what) => new(EcgErrorKind.Malformed, $"Not a valid DICOM file: {what}.");
}
