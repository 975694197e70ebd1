using System.Globalization;
using System.Text;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// EDF, EDF+ (continuous) and BDF: ASCII header, then data records holding each signal's samples in turn
/// (int16, or int24 for BDF). Physical = (digital − dmin) × (pmax − pmin) / (dmax − dmin) + pmin.
/// </summary>
internal static class EdfReader
{
    public const string FormatId = "edf";

    private const int MaxSignals = 512;

    /// <summary>EDF: version "0" padded with spaces; BDF: 0xFF "BIOSEMI". The header length field must agree with the signal count.</summary>
    public static bool CanRead(ReadOnlySpan<byte> content)
    {
        if (content.Length < 256)
        {
            return false;
        }

        var edf = content[..8].SequenceEqual("0       "u8);
        var bdf = content[0] == 0xFF && content[1..8].SequenceEqual("BIOSEMI"u8);
        if (!edf && !bdf)
        {
            return false;
        }

        var headerBytes = Field(content, 184, 8);
        var ns = Field(content, 252, 4);
        return int.TryParse(headerBytes, NumberStyles.Integer, CultureInfo.InvariantCulture, out var hb)
            && int.TryParse(ns, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            && n is > 0 and <= MaxSignals && hb == 256 * (n + 1);
    }

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        var content = file.Content.Span;
        var bdf = content[0] == 0xFF;
        var width = bdf ? 3 : 2;
        var reserved = Field(content, 192, 44);
        if (reserved.StartsWith("EDF+D", StringComparison.Ordinal))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, "Discontinuous EDF+ (EDF+D) files are not read; export a continuous recording.");
        }

        var ns = int.Parse(Field(content, 252, 4), CultureInfo.InvariantCulture);
        var headerLength = 256 * (ns + 1);
        if (content.Length < headerLength)
        {
            throw Malformed("the file ends inside the signal headers");
        }

        var duration = Number(Field(content, 244, 8), "record duration");
        var declaredRecords = (long)Number(Field(content, 236, 8), "number of data records");
        if (duration <= 0)
        {
            throw Malformed("the data-record duration is not positive");
        }

        var labels = new string[ns];
        var dims = new string[ns];
        var pmin = new double[ns];
        var pmax = new double[ns];
        var dmin = new double[ns];
        var dmax = new double[ns];
        var perRecord = new int[ns];
        for (var i = 0; i < ns; i++)
        {
            labels[i] = SignalField(content, ns, i, 0, 16);
            dims[i] = SignalField(content, ns, i, 96, 8);
            pmin[i] = Number(SignalField(content, ns, i, 104, 8), "physical minimum");
            pmax[i] = Number(SignalField(content, ns, i, 112, 8), "physical maximum");
            dmin[i] = Number(SignalField(content, ns, i, 120, 8), "digital minimum");
            dmax[i] = Number(SignalField(content, ns, i, 128, 8), "digital maximum");
            var spr = Number(SignalField(content, ns, i, 216, 8), "samples per record");
            if (spr < 0 || spr > 10_000_000 || spr != Math.Floor(spr))
            {
                throw Malformed($"signal {i + 1} has an impossible number of samples per record");
            }

            perRecord[i] = (int)spr;
        }

        long recordBytes = perRecord.Sum(n => (long)n) * width;
        if (recordBytes == 0)
        {
            throw Malformed("the data records are empty");
        }

        var available = (content.Length - headerLength) / recordBytes;
        var records = declaredRecords < 0 ? available : declaredRecords;
        if (records > available)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"the header declares {records} data records; the file holds {available}"));
        }

        Limits.CheckSamples(records * (recordBytes / width), options, "The EDF file");
        var builder = new RecordingBuilder(FormatId, 0);
        double? fs = null;
        long offsetInRecord = 0;
        for (var i = 0; i < ns; i++)
        {
            var signalOffset = offsetInRecord;
            offsetInRecord += (long)perRecord[i] * width;
            if (labels[i].StartsWith("EDF Annotations", StringComparison.OrdinalIgnoreCase) || builder.Resolve(labels[i]) is not { } lead)
            {
                continue;
            }

            var unit = Units.ToMillivolts(dims[i])
                ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"EDF signal '{labels[i]}' has unknown physical dimension '{dims[i]}'.");
            if (dmax[i] == dmin[i])
            {
                throw Malformed($"signal '{labels[i]}' has equal digital minimum and maximum");
            }

            var rate = perRecord[i] / duration;
            if (fs is { } f && Math.Abs(f - rate) > 1e-9 * f)
            {
                throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
                    $"EDF leads are sampled at different rates ({f:0.###} and {rate:0.###} Hz); a resting 12-lead ECG has one rate."));
            }

            fs = rate;
            var gain = (pmax[i] - pmin[i]) / (dmax[i] - dmin[i]);
            var samples = new float[records * perRecord[i]];
            for (long r = 0, k = 0; r < records; r++)
            {
                var at = headerLength + (r * recordBytes) + signalOffset;
                for (var j = 0; j < perRecord[i]; j++, k++)
                {
                    var p = (int)(at + (j * width));
                    var d = bdf
                        ? content[p] | (content[p + 1] << 8) | ((sbyte)content[p + 2] << 16)
                        : (short)(content[p] | (content[p + 1] << 8));
                    samples[k] = (float)((((d - dmin[i]) * gain) + pmin[i]) * unit);
                }
            }

            builder.Add(lead, labels[i], samples, Math.Abs(gain * unit));
        }

        if (fs is { } rateHz)
        {
            builder.SampleRateHz = rateHz;
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    private static string Field(ReadOnlySpan<byte> content, int offset, int length) =>
        Encoding.Latin1.GetString(content.Slice(offset, length)).Trim();

    /// <summary>Signal headers are stored field by field: all labels, then all transducers, and so on.</summary>
    private static string SignalField(ReadOnlySpan<byte> content, int ns, int signal, int fieldOffset, int length) =>
        Field(content, 256 + (fieldOffset * ns) + (signal * length), length);

    private static double Number(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw Malformed($"the {what} '{SafeXml.Clip(text)}' is not a number");

    private static EcgFormatException Malformed(string what) => new(EcgErrorKind.Malformed, $"Not a valid EDF file: {what}.");
}
