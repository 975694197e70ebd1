using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// NumPy <c>.npy</c> (versions 1–3): [T,12] or [12,T] (leading or trailing axes of length 1 are dropped), float or int,
/// either byte order, C or Fortran order; in ECG2AF lead order unless the request names the leads. Never pickled objects.
/// The rate comes from the request (<see cref="SampleRates"/>): an array carries none.
/// </summary>
internal static class NpyReader
{
    public const string FormatId = "npy";

    // 0x93 then "NUMPY" (a "\x93" in a u8 string literal would be UTF-8 encoded as two bytes).
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

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

            headerLength = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(span[8..]), int.MaxValue - 12);
            headerStart = 12;
        }
        else
        {
            throw Malformed($"unknown format version {major}");
        }

        if (headerLength > span.Length - headerStart)
        {
            throw Malformed("file ends inside the header");
        }

        var header = Encoding.UTF8.GetString(span.Slice(headerStart, headerLength));
        var descr = HeaderValue(header, "descr").Trim('\'', '"', ' ');
        if (descr.Contains('O', StringComparison.Ordinal) || descr.StartsWith('[') || descr.StartsWith('{'))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, ".npy files holding Python objects or records are never read.");
        }

        var fortran = HeaderValue(header, "fortran_order").StartsWith("True", StringComparison.Ordinal);
        var dims = HeaderValue(header, "shape").Trim('(', ')', ' ')
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Malformed($"bad shape '{SafeXml.Clip(s)}'"))
            .ToArray();
        var shape = dims.Where(d => d != 1).ToArray();
        var names = options.LeadOrder ?? Leads.Standard12;
        var channels = names.Count;
        if (shape.Length == 1 && channels == 1)
        {
            shape = [shape[0], 1];
        }

        if (shape.Length != 2 || (shape[0] != channels && shape[1] != channels))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
                $".npy shape ({string.Join(", ", dims)}) is not [samples, {channels}] or [{channels}, samples] for the leads {string.Join(", ", names)}."));
        }

        var kind = descr.Length >= 3 ? descr[1] : '?';
        var itemSize = descr.Length >= 3 && int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 0;
        var bigEndian = descr.StartsWith('>');
        if (!(kind == 'f' && itemSize is 2 or 4 or 8) && !(kind is 'i' or 'u' && itemSize is 1 or 2 or 4 or 8))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $".npy dtype '{SafeXml.Clip(descr)}' is not a float or integer type.");
        }

        var samples = shape[0] == channels && shape[1] != channels ? shape[1] : shape[0];
        Limits.CheckSamples(samples * channels, options, "The .npy file");
        var leadsFirst = shape[0] == channels && shape[1] != channels;
        var data = span[(headerStart + headerLength)..];
        if (samples * channels * itemSize > data.Length)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture,
                $"shape ({string.Join(", ", dims)}) needs {samples * channels * itemSize} data bytes, the file has {data.Length}"));
        }

        var gain = options.CountsPerMillivolt;
        if (gain is <= 0 || gain is { } g && !double.IsFinite(g))
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "CountsPerMillivolt must be a positive number.");
        }

        var scale = Units.RequestUnits(options.Units) / (gain ?? 1);
        var columns = shape[1];
        var builder = new RecordingBuilder(FormatId, 0);
        builder.SampleRateHz = SampleRates.Resolve(options.SampleRateHz, samples, builder, "The .npy file");
        for (var c = 0; c < channels; c++)
        {
            if (builder.Resolve(names[c]) is not { } lead)
            {
                continue;
            }

            var values = new float[samples];
            for (long t = 0; t < samples; t++)
            {
                // Element (row, column) of the stored 2-D array, in C (row-major) or Fortran (column-major) order.
                var (row, column) = leadsFirst ? ((long)c, t) : (t, (long)c);
                var index = fortran ? (column * shape[0]) + row : (row * columns) + column;
                values[t] = (float)(ReadValue(data.Slice((int)(index * itemSize), itemSize), kind, bigEndian) * scale);
            }

            builder.Add(lead, names[c], values, kind == 'f' ? null : scale);
        }

        if (options.Units is null && gain is null)
        {
            builder.Flags.Add("units_assumed:mV");
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    private static double ReadValue(ReadOnlySpan<byte> b, char kind, bool bigEndian) => (kind, b.Length) switch
    {
        ('f', 2) => (double)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(b) : BinaryPrimitives.ReadHalfLittleEndian(b)),
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

    /// <summary>The text of one entry of the header's Python dict literal: a quoted string, a tuple or a bare word.</summary>
    private static string HeaderValue(string header, string key)
    {
        var at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        var colon = at < 0 ? -1 : header.IndexOf(':', at);
        if (colon < 0)
        {
            throw Malformed($"header has no '{key}'");
        }

        var rest = header[(colon + 1)..].TrimStart();
        var end = rest.StartsWith('(') ? rest.IndexOf(')', StringComparison.Ordinal) + 1 : rest.IndexOfAny([',', '}']);
        return (end <= 0 ? rest : rest[..end]).Trim();
    }

    private static EcgFormatException Malformed(string what) =>
        new(EcgErrorKind.Malformed, $"Not a valid .npy file: {what}.");
}
