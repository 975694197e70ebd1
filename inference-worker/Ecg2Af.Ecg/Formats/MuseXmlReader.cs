using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Xml;
using System.Xml.Linq;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// GE MUSE RestingECG XML: the <c>Rhythm</c> waveform (never the <c>Median</c> beat), base64 little-endian int16 per
/// lead, µV = count × LeadAmplitudeUnitsPerBit. Usually 8 stored leads; the rest are derived later.
/// </summary>
internal static class MuseXmlReader
{
    public const string FormatId = "ge-muse-xml";
    public const string RootElement = "RestingECG";

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        XElement? rhythm = null;
        var sawMedian = false;
        using (var reader = SafeXml.Open(file.Content, options))
        {
            reader.MoveToContent();
            reader.Read();
            while (!reader.EOF && rhythm is null)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Depth == 1 && reader.LocalName == "Waveform")
                {
                    var waveform = (XElement)XNode.ReadFrom(reader);
                    var type = waveform.Element("WaveformType")?.Value.Trim();
                    if (string.Equals(type, "Rhythm", StringComparison.OrdinalIgnoreCase))
                    {
                        rhythm = waveform;
                    }
                    else
                    {
                        sawMedian |= string.Equals(type, "Median", StringComparison.OrdinalIgnoreCase);
                    }

                    continue;
                }

                reader.Read();
            }
        }

        if (rhythm is null)
        {
            throw sawMedian
                ? new EcgFormatException(EcgErrorKind.Unusable, "The MUSE XML holds only a median beat, no 10 s rhythm waveform.")
                : new EcgFormatException(EcgErrorKind.Malformed, "The MUSE XML has no Waveform of type Rhythm.");
        }

        var exponent = rhythm.Element("SampleExponent") is { } e ? SafeXml.ParseLong(e.Value, "SampleExponent") : 0;
        if (exponent is < -6 or > 6)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "The MUSE XML SampleExponent is out of range.");
        }

        var sampleBase = rhythm.Element("SampleBase")?.Value;
        var fs = sampleBase is not null
            ? SafeXml.ParseDouble(sampleBase, "SampleBase") * Math.Pow(10, exponent)
            : options.SampleRateHz ?? 500;
        var builder = new RecordingBuilder(FormatId, fs);
        if (sampleBase is null && options.SampleRateHz is null)
        {
            // GE's usual rate, but not stated: flagged rather than passed on silently (250 Hz exports exist).
            builder.Flags.Add("sample_rate_assumed:500Hz");
            builder.Warnings.Add($"The MUSE rhythm waveform has no SampleBase; 500 Hz (GE's usual rate) was assumed. {SampleRates.HowToGive}");
        }

        long declared = 0;
        foreach (var lead in rhythm.Elements("LeadData"))
        {
            declared += ReadLead(lead, builder, options, declared);
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    private static long ReadLead(XElement lead, RecordingBuilder builder, EcgReadOptions options, long declaredSoFar)
    {
        var label = lead.Element("LeadID")?.Value.Trim() ?? "";
        if (builder.Resolve(label) is not { } resolved)
        {
            return 0;
        }

        var sampleSize = lead.Element("LeadSampleSize") is { } ss ? SafeXml.ParseLong(ss.Value, "LeadSampleSize") : 2;
        if (sampleSize != 2)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"MUSE lead {label} stores {sampleSize}-byte samples; only 2-byte samples are read.");
        }

        var perBit = lead.Element("LeadAmplitudeUnitsPerBit") is { } pb ? SafeXml.ParseDouble(pb.Value, "LeadAmplitudeUnitsPerBit") : 4.88;
        var unitText = lead.Element("LeadAmplitudeUnits")?.Value ?? "MICROVOLTS";
        var unit = Units.ToMillivolts(unitText)
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"MUSE lead {label} has unknown amplitude units '{SafeXml.Clip(unitText)}'.");
        var text = lead.Element("WaveFormData")?.Value
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"MUSE lead {label} has no WaveFormData.");
        Limits.CheckSamples(declaredSoFar + (text.Length / 2), options, "The MUSE XML");

        // The base64 text carries newlines and spaces, which the decoder skips.
        var bytes = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, bytes, out var written))
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"MUSE lead {label}: WaveFormData is not valid base64.");
        }

        bytes = bytes[..written];
        var count = lead.Element("LeadSampleCountTotal") is { } c ? SafeXml.ParseLong(c.Value, "LeadSampleCountTotal") : bytes.Length / 2;
        if (count < 0 || count * 2 > bytes.Length)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"MUSE lead {label} declares {count} samples but holds {bytes.Length / 2}."));
        }

        if (lead.Element("LeadDataCRC32") is { } crcText
            && uint.TryParse(crcText.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var crc)
            && Crc32.HashToUInt32(bytes) != crc)
        {
            builder.Flags.Add($"crc_mismatch:{resolved.Name}");
            builder.Warnings.Add($"MUSE lead {label}: the waveform bytes do not match LeadDataCRC32; the file may be damaged.");
        }

        var scale = perBit * unit;
        var samples = new float[count];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (float)(BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * i)) * scale);
        }

        builder.Add(resolved, label, samples, scale);
        return count;
    }
}
