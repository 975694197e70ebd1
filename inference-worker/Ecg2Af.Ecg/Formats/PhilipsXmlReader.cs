using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// Philips Sierra ECG XML (<c>restingecgdata</c>, document versions 1.03, 1.04, 1.04.01): the <c>parsedwaveforms</c>
/// element, XLI-compressed (<see cref="XliCodec"/>) or plain 16-bit samples, lead after lead. Only the first
/// <c>numberofleads</c> leads are read (XLI blobs hold 16 chunks; the rest can be garbage). In XLI data III, aVR, aVL and
/// aVF hold residuals, added here to the leads derived from I and II in integer counts (halving toward zero, as the
/// Philips-exported HL7 twin shows). Each lead stores 11 s: 10 s of ECG, then a 1 mV calibration pulse; only the first
/// 10 s are kept.
/// </summary>
internal static class PhilipsXmlReader
{
    public const string FormatId = "philips-xml";
    public const string RootElement = "restingecgdata";

    /// <summary>The ECG part of every lead; Philips carts append a 1 s calibration tail.</summary>
    private const double EcgSeconds = 10;

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        XElement? characteristics = null;
        Dictionary<string, string>? attributes = null;
        byte[]? payload = null;
        string? plain = null;
        using (var reader = SafeXml.Open(file.Content, options))
        {
            reader.MoveToContent();
            reader.Read();
            while (!reader.EOF && payload is null && plain is null)
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    reader.Read();
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "signalcharacteristics":
                        characteristics = (XElement)XNode.ReadFrom(reader);
                        break;
                    case "dataacquisition" or "waveforms" when !reader.IsEmptyElement:
                        reader.Read(); // enter: the elements above sit inside
                        break;
                    case "parsedwaveforms":
                        attributes = Attributes(reader);
                        if (string.Equals(attributes.GetValueOrDefault("dataencoding"), "Plain", StringComparison.OrdinalIgnoreCase))
                        {
                            plain = reader.ReadElementContentAsString();
                        }
                        else
                        {
                            payload = Base64(reader, options);
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        if (attributes is null)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, "The Philips XML has no parsedwaveforms element (no 10 s rhythm waveforms).");
        }

        var encoding = attributes.GetValueOrDefault("dataencoding") ?? "Base64";
        if (plain is null && !string.Equals(encoding, "Base64", StringComparison.OrdinalIgnoreCase))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"Philips XML waveform encoding '{SafeXml.Clip(encoding)}' is not read (Base64 and Plain are).");
        }

        var fs = Number(attributes.GetValueOrDefault("samplespersecond") ?? Child(characteristics, "samplingrate"), "the sample rate (samplespersecond or samplingrate)");
        var resolutionUv = Number(attributes.GetValueOrDefault("resolution") ?? Child(characteristics, "signalresolution"), "the resolution (resolution or signalresolution)");
        var durationMs = Number(attributes.GetValueOrDefault("durationperchannel"), "durationperchannel");
        if (attributes.GetValueOrDefault("signaloffset") is { } offset && SafeXml.ParseDouble(offset, "signaloffset") != 0)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"Philips XML signaloffset={SafeXml.Clip(offset)} is not read (only 0).");
        }

        var labels = LeadLabels(attributes, characteristics);
        var leadCount = attributes.GetValueOrDefault("numberofleads") is { } nl
            ? SafeXml.ParseLong(nl, "numberofleads")
            : Child(characteristics, "numberchannelsvalid") is { } valid ? SafeXml.ParseLong(valid, "numberchannelsvalid") : labels.Length;
        if (leadCount < 1 || leadCount > labels.Length)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"The Philips XML declares {leadCount} leads but names {labels.Length} ({string.Join(' ', labels)})."));
        }

        var perLead = (long)Math.Round(durationMs * fs / 1000);
        if (perLead <= 0 || fs <= 0)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "The Philips XML declares no samples (durationperchannel × sample rate).");
        }

        Limits.CheckSamples(perLead * leadCount, options, "The Philips XML");
        var compression = Compression(attributes);
        int[][] counts;
        if (compression == "XLI")
        {
            counts = XliCodec.Decode(payload ?? throw new EcgFormatException(EcgErrorKind.Malformed, "Philips XLI waveforms must be Base64."), (int)leadCount, (int)perLead);
            AddResiduals(counts, labels);
        }
        else if (compression is null)
        {
            counts = plain is not null ? SplitPlain(plain, (int)leadCount, (int)perLead) : SplitBinary(payload!, (int)leadCount, (int)perLead);
        }
        else
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"Philips XML waveform compression '{SafeXml.Clip(compression)}' is not read (XLI and uncompressed are).");
        }

        var builder = new RecordingBuilder(FormatId, fs);
        var keep = (int)Math.Min(perLead, Math.Round(EcgSeconds * fs));
        var scale = resolutionUv / 1000;
        for (var lead = 0; lead < leadCount; lead++)
        {
            if (builder.Resolve(labels[lead]) is not { } resolved)
            {
                continue;
            }

            var source = counts[lead];
            var samples = new float[Math.Min(keep, source.Length)];
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] = (float)(source[i] * scale);
            }

            builder.Add(resolved, labels[lead], samples, scale);
        }

        if (perLead > keep)
        {
            builder.Warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"The Philips XML stores {durationMs / 1000:0.###} s per lead; the first {EcgSeconds:0} s were read and the tail with the calibration pulse was left out."));
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    /// <summary>
    /// XLI keeps III, aVR, aVL and aVF as residuals of their Einthoven/Goldberger values from I and II. Integer division
    /// truncates toward zero, the rule the Philips HL7 export follows.
    /// </summary>
    private static void AddResiduals(int[][] counts, string[] labels)
    {
        int Index(string lead) => Array.FindIndex(labels, l => Leads.Normalize(l) == lead) is var i && i < counts.Length ? i : -1;
        var (i1, i2, i3, ir, il, iF) = (Index("I"), Index("II"), Index("III"), Index("aVR"), Index("aVL"), Index("aVF"));
        if (i1 < 0 || i2 < 0)
        {
            return;
        }

        var (one, two) = (counts[i1], counts[i2]);
        var n = Math.Min(one.Length, two.Length);
        if (i3 >= 0)
        {
            var three = counts[i3];
            for (var t = 0; t < Math.Min(n, three.Length); t++)
            {
                three[t] = two[t] - one[t] - three[t];
            }
        }

        var iii = i3 >= 0 ? counts[i3] : null;
        if (ir >= 0)
        {
            var r = counts[ir];
            for (var t = 0; t < Math.Min(n, r.Length); t++)
            {
                r[t] = -r[t] - ((one[t] + two[t]) / 2);
            }
        }

        if (iii is null)
        {
            return;
        }

        var m = Math.Min(n, iii.Length);
        if (il >= 0)
        {
            var l = counts[il];
            for (var t = 0; t < Math.Min(m, l.Length); t++)
            {
                l[t] = ((one[t] - iii[t]) / 2) - l[t];
            }
        }

        if (iF >= 0)
        {
            var f = counts[iF];
            for (var t = 0; t < Math.Min(m, f.Length); t++)
            {
                f[t] = ((two[t] + iii[t]) / 2) - f[t];
            }
        }
    }

    /// <summary>"XLI", null for uncompressed, or the method named. 1.04 writes <c>compression</c>; 1.03 <c>compressflag</c> + <c>compressmethod</c>.</summary>
    private static string? Compression(Dictionary<string, string> attributes)
    {
        if (attributes.TryGetValue("compressflag", out var flag))
        {
            return bool.TryParse(flag.Trim(), out var on) && on
                ? (attributes.GetValueOrDefault("compressmethod") ?? "").Trim().ToUpperInvariant()
                : null;
        }

        var method = attributes.GetValueOrDefault("compression")?.Trim();
        return string.IsNullOrEmpty(method) || method.Equals("None", StringComparison.OrdinalIgnoreCase) || method.Equals("false", StringComparison.OrdinalIgnoreCase)
            ? null
            : method.ToUpperInvariant();
    }

    /// <summary>The stored leads: <c>leadlabels</c> (1.04), else the 12 standard leads for a 1.03 STD-12 acquisition.</summary>
    private static string[] LeadLabels(Dictionary<string, string> attributes, XElement? characteristics)
    {
        if (attributes.GetValueOrDefault("leadlabels") is { } labels)
        {
            return labels.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var type = Child(characteristics, "acquisitiontype") ?? Child(characteristics, "leadset");
        return type?.Trim().ToUpperInvariant() is "STD-12" or "12-LEAD"
            ? [.. Leads.Standard12]
            : throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                $"The Philips XML names no lead labels and its acquisition type '{SafeXml.Clip(type)}' is not the standard 12 leads.");
    }

    private static int[][] SplitBinary(byte[] bytes, int leads, int perLead)
    {
        if ((long)bytes.Length < 2L * leads * perLead)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"The Philips XML waveforms hold {bytes.Length / 2} samples; {leads} leads × {perLead} were declared."));
        }

        var result = new int[leads][];
        for (var lead = 0; lead < leads; lead++)
        {
            var values = new int[perLead];
            var span = bytes.AsSpan(2 * lead * perLead);
            for (var i = 0; i < perLead; i++)
            {
                values[i] = (short)(span[2 * i] | (span[(2 * i) + 1] << 8));
            }

            result[lead] = values;
        }

        return result;
    }

    private static int[][] SplitPlain(string text, int leads, int perLead)
    {
        var values = Numbers.ParseList(text, 0, 1)
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, "The Philips XML plain waveforms are not all numbers.");
        if (values.Length < (long)leads * perLead)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"The Philips XML waveforms hold {values.Length} samples; {leads} leads × {perLead} were declared."));
        }

        var result = new int[leads][];
        for (var lead = 0; lead < leads; lead++)
        {
            var lane = new int[perLead];
            for (var i = 0; i < perLead; i++)
            {
                var v = values[(lead * perLead) + i];
                lane[i] = v is >= short.MinValue and <= short.MaxValue ? (int)v : throw new EcgFormatException(EcgErrorKind.Malformed, "A Philips XML sample is out of the 16-bit range.");
            }

            result[lead] = lane;
        }

        return result;
    }

    /// <summary>The element's Base64 text, decoded by the vectorised <see cref="Convert"/> (XmlReader's own decoder is several times slower).</summary>
    private static byte[] Base64(XmlReader reader, EcgReadOptions options)
    {
        var text = reader.ReadElementContentAsString();
        Limits.CheckDecompressed(text.Length / 4 * 3, options, "The Philips XML waveform");
        var bytes = new byte[text.Length / 4 * 3];
        return Convert.TryFromBase64String(text, bytes, out var written)
            ? bytes[..written]
            : throw new EcgFormatException(EcgErrorKind.Malformed, "The Philips XML waveforms are not valid Base64.");
    }

    private static Dictionary<string, string> Attributes(XmlReader reader)
    {
        var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (reader.MoveToFirstAttribute())
        {
            do
            {
                attributes[reader.LocalName] = reader.Value;
            }
            while (reader.MoveToNextAttribute());
            reader.MoveToElement();
        }

        return attributes;
    }

    private static string? Child(XElement? parent, string name) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    private static double Number(string? text, string what)
    {
        if (text is null)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"The Philips XML does not give {what}.");
        }

        var v = SafeXml.ParseDouble(text, $"The Philips XML {what}");
        return v > 0 ? v : throw new EcgFormatException(EcgErrorKind.Malformed, $"The Philips XML {what} is not positive.");
    }
}
