using System.Buffers.Binary;
using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// PhysioNet WFDB records: a header and one or more signal files in formats 16, 61, 80, 160, 212, 24 or 32, including
/// the PhysioNet/CinC Challenge <c>.mat</c> layout (<c>16+24</c>). Physical value = (digital − baseline) / gain.
/// </summary>
internal static class WfdbReader
{
    public const string FormatId = "wfdb";

    public static EcgRecording Read(EcgFile headerFile, WfdbHeader header, IReadOnlyList<EcgFile> dataFiles, EcgReadOptions options)
    {
        if (header.SegmentCount != 1)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                $"WFDB record '{header.RecordName}' is a multi-segment record; only single-segment records are read. Convert it with wfdb's 'rdsamp' or upload one segment.");
        }

        var signals = header.Signals;
        var labels = Labels(header, options);
        var builder = new RecordingBuilder(FormatId, header.SampleRateHz);
        if (header.SampleRateDefaulted)
        {
            builder.Warnings.Add("The WFDB header gives no sampling frequency; WFDB's default of 250 Hz was used.");
            builder.Flags.Add("sample_rate_assumed:250Hz");
        }

        var resolved = new LeadLabel?[signals.Count];
        var factors = new double[signals.Count];
        for (var i = 0; i < signals.Count; i++)
        {
            var factor = Units.ToMillivolts(signals[i].Units);
            if (factor is null)
            {
                // mmHg, NU, %...: a non-ECG channel. It is reported as ignored, never decoded.
                builder.Resolve($"{labels[i]} [{signals[i].Units}]".Trim());
                continue;
            }

            factors[i] = factor.Value;
            resolved[i] = builder.Resolve(labels[i]);
        }

        var used = Enumerable.Range(0, signals.Count).Where(i => resolved[i] is not null).ToList();
        if (used.Count == 0)
        {
            return builder.Build(header.RecordName); // throws: no lead recognised
        }

        var spf = signals[used[0]].SamplesPerFrame;
        if (used.Any(i => signals[i].SamplesPerFrame != spf))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable,
                "The WFDB leads are stored at different sample rates (samples per frame differ); this is not a resting 12-lead ECG layout.");
        }

        builder.SampleRateHz = header.SampleRateHz * spf;
        var totalPerFrame = signals.Sum(s => (long)s.SamplesPerFrame);
        if (header.SampleCount is { } declared)
        {
            Limits.CheckSamples(declared * totalPerFrame, options, $"WFDB record '{header.RecordName}'");
        }

        foreach (var group in signals.Select((s, i) => (s, i)).GroupBy(x => x.s.FileName))
        {
            var members = group.Select(x => x.i).ToList();
            if (!members.Any(i => resolved[i] is not null))
            {
                continue; // e.g. the .xyz file of a PTB record: Frank leads only.
            }

            var file = FindFile(group.Key, header, headerFile, dataFiles, builder);
            DecodeFile(file, header, members, resolved, factors, labels, options, builder);
        }

        return builder.Build(header.RecordName);
    }

    private static string[] Labels(WfdbHeader header, EcgReadOptions options)
    {
        var labels = header.Signals.Select(s => s.Description).ToArray();
        if (labels.All(string.IsNullOrWhiteSpace))
        {
            if (options.LeadOrder is null || options.LeadOrder.Count != labels.Length)
            {
                throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
                    $"The WFDB header names none of its {labels.Length} signals; give the lead order in the request."));
            }

            return [.. options.LeadOrder];
        }

        return labels;
    }

    private static EcgFile FindFile(string name, WfdbHeader header, EcgFile headerFile, IReadOnlyList<EcgFile> files, RecordingBuilder builder)
    {
        var candidates = files.Where(f => !ReferenceEquals(f, headerFile)).ToList();
        var match = candidates.FirstOrDefault(f => Path.GetFileName(f.FileName) == name)
            ?? candidates.FirstOrDefault(f => string.Equals(Path.GetFileName(f.FileName), name, StringComparison.OrdinalIgnoreCase));
        if (match is not null)
        {
            return match;
        }

        // A header that names a file under another name (EGM's LUDB copy names "1.dat" inside "ludb-ecg.hea"):
        // accept the only data file uploaded when the header has only one file.
        var referenced = header.Signals.Select(s => s.FileName).Distinct(StringComparer.Ordinal).Count();
        if (referenced == 1 && candidates.Count == 1)
        {
            builder.Warnings.Add($"The WFDB header names its signal file '{name}', but '{Path.GetFileName(candidates[0].FileName)}' was uploaded; that file was used.");
            builder.Flags.Add("signal_file_renamed");
            return candidates[0];
        }

        var uploaded = candidates.Count == 0 ? "none" : string.Join(", ", candidates.Select(f => Path.GetFileName(f.FileName)));
        throw new EcgFormatException(EcgErrorKind.Malformed,
            $"WFDB record '{header.RecordName}' keeps signals in '{name}', which was not uploaded (other files: {uploaded}). Upload the header together with its signal files.");
    }

    private static void DecodeFile(EcgFile file, WfdbHeader header, List<int> members, LeadLabel?[] resolved, double[] factors,
        string[] labels, EcgReadOptions options, RecordingBuilder builder)
    {
        var signals = header.Signals;
        var first = signals[members[0]];
        var format = first.Format;
        if (members.Any(i => signals[i].Format != format))
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"Signals in WFDB file '{first.FileName}' use different storage formats.");
        }

        var codec = Codec(format, first.FileName);
        var offset = first.ByteOffset;
        var content = file.Content.Span;
        if (offset > content.Length)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"WFDB file '{first.FileName}' is shorter than its byte offset {offset}.");
        }

        var data = content[(int)offset..];
        var frameSize = members.Sum(i => signals[i].SamplesPerFrame);
        var available = codec.SamplesIn(data.Length);
        var frames = header.SampleCount ?? (available / frameSize);
        if (frames * frameSize > available)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"WFDB file '{first.FileName}' holds {available / frameSize} frames; the header declares {frames}."));
        }

        var total = frames * frameSize;
        Limits.CheckSamples(total, options, $"WFDB file '{first.FileName}'");
        if (frames == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, $"WFDB file '{first.FileName}' holds no samples.");
        }

        var digital = new int[total];
        codec.Decode(data, digital);

        var position = 0;
        foreach (var i in members)
        {
            var s = signals[i];
            var perFrame = s.SamplesPerFrame;
            var start = position;
            position += perFrame;
            if (resolved[i] is not { } lead)
            {
                continue;
            }

            var samples = new float[frames * perFrame];
            long sum = 0;
            var scale = factors[i] / s.Gain;
            var invalid = 0;
            for (long f = 0, k = 0; f < frames; f++)
            {
                var at = (f * frameSize) + start;
                for (var j = 0; j < perFrame; j++, k++)
                {
                    var d = digital[at + j];
                    sum += d;
                    if (d == codec.Invalid)
                    {
                        samples[k] = float.NaN;
                        invalid++;
                    }
                    else
                    {
                        samples[k] = (float)((d - s.Baseline) * scale);
                    }
                }
            }

            var name = lead.Name;
            if (s.Checksum is { } checksum && header.SampleCount is not null && ((sum - checksum) & 0xFFFF) != 0)
            {
                builder.Flags.Add($"checksum_mismatch:{name}");
                builder.Warnings.Add($"Lead {name}: the samples do not add up to the header's checksum; the file may be damaged or belong to another record.");
            }

            if (s.InitialValue is { } initial && initial != digital[start])
            {
                builder.Flags.Add($"initial_value_mismatch:{name}");
            }

            if (s.GainDefaulted)
            {
                builder.Flags.Add($"uncalibrated:{name}");
                builder.Warnings.Add($"Lead {name} has no gain in the header (uncalibrated); WFDB's default of 200 per {s.Units} was used.");
            }

            if (invalid > 0)
            {
                builder.Warnings.Add(string.Create(CultureInfo.InvariantCulture, $"Lead {name} has {invalid} samples marked invalid."));
            }

            builder.Add(lead, labels[i], samples, factors[i] / s.Gain);
        }
    }

    private static SampleCodec Codec(int format, string file) => format switch
    {
        16 => new SampleCodec(2, short.MinValue, (b, o) => { for (var i = 0; i < o.Length; i++) { o[i] = BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]); } }),
        61 => new SampleCodec(2, short.MinValue, (b, o) => { for (var i = 0; i < o.Length; i++) { o[i] = BinaryPrimitives.ReadInt16BigEndian(b[(2 * i)..]); } }),
        160 => new SampleCodec(2, short.MinValue, (b, o) => { for (var i = 0; i < o.Length; i++) { o[i] = BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]) - 32768; } }),
        80 => new SampleCodec(1, -128, (b, o) => { for (var i = 0; i < o.Length; i++) { o[i] = b[i] - 128; } }),
        24 => new SampleCodec(3, -(1 << 23), (b, o) => { for (var i = 0; i < o.Length; i++) { o[i] = (b[3 * i] | (b[(3 * i) + 1] << 8) | ((sbyte)b[(3 * i) + 2] << 16)); } }),
        32 => new SampleCodec(4, int.MinValue, (b, o) => { for (var i = 0; i < o.Length; i++) { o[i] = BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]); } }),
        212 => SampleCodec.Format212,
        508 or 516 or 524 => throw Unsupported(format, file, "FLAC-compressed signal files are not read; convert the record to format 16"),
        _ => throw Unsupported(format, file, "supported formats are 16, 61, 80, 160, 212, 24 and 32"),
    };

    private static EcgFormatException Unsupported(int format, string file, string why) =>
        new(EcgErrorKind.UnsupportedFormat, string.Create(CultureInfo.InvariantCulture, $"WFDB signal file '{file}' uses storage format {format}; {why}."));

    private delegate void DecodeAll(ReadOnlySpan<byte> bytes, Span<int> output);

    /// <summary>How samples of one WFDB storage format are packed; <see cref="Invalid"/> marks a missing sample.</summary>
    private sealed class SampleCodec(int bytesPerSample, int invalid, DecodeAll decode)
    {
        /// <summary>Two 12-bit two's-complement samples in 3 bytes, packed across the interleaved stream; a trailing odd sample takes 2 bytes.</summary>
        public static readonly SampleCodec Format212 = new(0, -2048, Decode212);

        public int Invalid => invalid;

        public long SamplesIn(long bytes) => bytesPerSample == 0
            ? (bytes / 3 * 2) + (bytes % 3 >= 2 ? 1 : 0)
            : bytes / bytesPerSample;

        public void Decode(ReadOnlySpan<byte> bytes, Span<int> output) => decode(bytes, output);

        private static void Decode212(ReadOnlySpan<byte> b, Span<int> o)
        {
            for (int i = 0, p = 0; i < o.Length; i += 2, p += 3)
            {
                var s0 = b[p] | ((b[p + 1] & 0x0F) << 8);
                o[i] = s0 > 2047 ? s0 - 4096 : s0;
                if (i + 1 < o.Length)
                {
                    var s1 = b[p + 2] | ((b[p + 1] & 0xF0) << 4);
                    o[i + 1] = s1 > 2047 ? s1 - 4096 : s1;
                }
            }
        }
    }
}
