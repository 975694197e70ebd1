using System.Buffers.Binary;
using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// DICOM ECG waveform (12-lead, general and ambulatory ECG storage): the RHYTHM multiplex group (else the longest),
/// channel-interleaved signed samples, physical = raw × sensitivity × correction + baseline, in the sensitivity unit.
/// </summary>
internal static class DicomWaveformReader
{
    public const string FormatId = "dicom-ecg";

    private const uint SopClassUid = 0x0008_0016;
    private const uint ChannelCount = 0x003A_0005;
    private const uint SampleCount = 0x003A_0010;
    private const uint SamplingFrequency = 0x003A_001A;
    private const uint GroupLabel = 0x003A_0020;
    private const uint ChannelDefinitions = 0x003A_0200;
    private const uint ChannelLabel = 0x003A_0203;
    private const uint ChannelSource = 0x003A_0208;
    private const uint Sensitivity = 0x003A_0210;
    private const uint SensitivityUnits = 0x003A_0211;
    private const uint CorrectionFactor = 0x003A_0212;
    private const uint Baseline = 0x003A_0213;
    private const uint CodeValue = 0x0008_0100;
    private const uint CodeMeaning = 0x0008_0104;
    private const uint BitsAllocated = 0x5400_1004;
    private const uint Interpretation = 0x5400_1006;
    private const uint PaddingValue = 0x5400_100A;
    private const uint WaveformData = 0x5400_1010;

    // 12-lead ECG, general ECG, ambulatory ECG waveform storage.
    private static readonly HashSet<string> EcgClasses =
        ["1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.840.10008.5.1.4.1.1.9.1.2", "1.2.840.10008.5.1.4.1.1.9.1.3"];

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        var (_, data) = DicomDataset.Parse(file.Content, options);
        var sopClass = data.String(SopClassUid) ?? "";
        var groups = data.Sequence(DicomDataset.WaveformSequence);
        if (groups.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                $"The DICOM file holds no waveform (SOP class {SafeXml.Clip(sopClass)}); only DICOM ECG waveforms are read.");
        }

        if (!EcgClasses.Contains(sopClass))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable,
                $"The DICOM waveform is not an ECG (SOP class {SafeXml.Clip(sopClass)}); expected 12-lead, general or ambulatory ECG storage.");
        }

        var group = groups.FirstOrDefault(g => string.Equals(g.String(GroupLabel), "RHYTHM", StringComparison.OrdinalIgnoreCase))
            ?? groups.MaxBy(g => g.Unsigned(SampleCount) ?? 0)!;
        var channels = (int)(group.Unsigned(ChannelCount) ?? 0);
        var samples = group.Unsigned(SampleCount) ?? 0;
        var fs = group.Number(SamplingFrequency) ?? 0;
        if (channels <= 0 || samples <= 0 || fs <= 0)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "The DICOM waveform group lacks its channel count, sample count or sampling frequency.");
        }

        Limits.CheckSamples(channels * samples, options, "The DICOM waveform");
        var bits = group.Unsigned(BitsAllocated) ?? 16;
        var interpretation = group.String(Interpretation) ?? "SS";
        var (width, signed) = (bits, interpretation) switch
        {
            (16, "SS") => (2, true),
            (16, "US") => (2, false),
            (8, "SB") => (1, true),
            (8, "UB") => (1, false),
            _ => throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, string.Create(CultureInfo.InvariantCulture,
                $"DICOM waveform samples of {bits} bits, interpretation '{SafeXml.Clip(interpretation)}' are not read (companded or unusual).")),
        };

        var raw = group.Bytes(WaveformData)
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, "The DICOM waveform group has no WaveformData.");
        if (raw.Length < channels * samples * width)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"DICOM WaveformData holds {raw.Length} bytes; {channels} channels × {samples} samples need {channels * samples * width}."));
        }

        // WaveformPaddingValue marks samples that are not part of the waveform. Writers put 0 there too (the sample
        // file does, and its zeros are real samples), so only a value at the end of the range is taken as padding.
        int? padding = group.Bytes(PaddingValue) is { } p && p.Length >= width ? Sample(p.Span, 0, width, signed) : null;
        if (padding is not (short.MinValue or sbyte.MinValue or ushort.MaxValue or byte.MaxValue))
        {
            padding = null;
        }

        var definitions = group.Sequence(ChannelDefinitions);
        var builder = new RecordingBuilder(FormatId, fs);
        var baselineWarned = false;
        for (var c = 0; c < Math.Min(channels, definitions.Count); c++)
        {
            var definition = definitions[c];
            var label = ChannelName(definition);
            if (builder.Resolve(label) is not { } lead)
            {
                continue;
            }

            var unitItem = definition.Sequence(SensitivityUnits).FirstOrDefault();
            var unitText = unitItem?.String(CodeValue) ?? "uV";
            var unit = Units.ToMillivolts(unitText)
                ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"DICOM channel {label} has unknown sensitivity units '{SafeXml.Clip(unitText)}'.");
            var scale = (definition.Number(Sensitivity) ?? 1) * (definition.Number(CorrectionFactor) ?? 1);
            var baseline = definition.Number(Baseline) ?? 0;
            if (baseline != 0 && !baselineWarned)
            {
                baselineWarned = true;
                builder.Flags.Add("channel_baseline_nonzero");
                builder.Warnings.Add("The DICOM channels have a non-zero ChannelBaseline; it was added after scaling, as the standard defines. Verify the levels.");
            }

            var values = new float[samples];
            var span = raw.Span;
            for (long t = 0; t < samples; t++)
            {
                var v = Sample(span, (int)((t * channels) + c), width, signed);
                values[t] = v == padding ? float.NaN : (float)(((v * scale) + baseline) * unit);
            }

            builder.Add(lead, label, values, Math.Abs(scale * unit));
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    private static int Sample(ReadOnlySpan<byte> data, int index, int width, bool signed) => (width, signed) switch
    {
        (2, true) => BinaryPrimitives.ReadInt16LittleEndian(data[(index * 2)..]),
        (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(data[(index * 2)..]),
        (1, true) => (sbyte)data[index],
        _ => data[index],
    };

    /// <summary>
    /// The lead a channel carries: an SCP-ECG (<c>5.6.3-9-N</c>) or MDC (<c>2:N</c>) code, else its code meaning or label.
    /// The number N is shared: 1 I, 2 II, 3–8 V1–V6, 61 III, 62 aVR, 63 aVL, 64 aVF.
    /// </summary>
    private static string ChannelName(DicomDataset definition)
    {
        var source = definition.Sequence(ChannelSource).FirstOrDefault();
        var code = source?.String(CodeValue) ?? "";
        var number = code.StartsWith("5.6.3-9-", StringComparison.Ordinal) ? code[8..]
            : code.StartsWith("2:", StringComparison.Ordinal) ? code[2..]
            : null;
        if (number is not null && int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            var name = n switch
            {
                1 => "I",
                2 => "II",
                >= 3 and <= 8 => $"V{n - 2}",
                61 => "III",
                62 => "aVR",
                63 => "aVL",
                64 => "aVF",
                _ => null,
            };
            if (name is not null)
            {
                return name;
            }
        }

        return source?.String(CodeMeaning) ?? definition.String(ChannelLabel) ?? code;
    }
}
