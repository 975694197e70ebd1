using System.Buffers.Binary;
using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// SCP-ECG (EN 1064 / ISO 11073-91064). A record is a CRC-16 and a length, then sections, each with a 16-byte header
/// (CRC, id, length, versions, reserved; section 0 writes "SCPECG" there). Read: section 0 (pointers), 1 (header tags,
/// walked but nothing personal kept), 2 (Huffman tables, default or defined), 3 (lead definitions), 4 and 5 (QRS
/// locations and reference beats, used when the rhythm had the reference beat subtracted), 6 (rhythm data: Huffman
/// coded or plain 16-bit, as original values or first or second differences). CRC mismatches are flagged
/// (<c>crc_mismatch:record</c>, <c>crc_mismatch:section6</c>); bimodal compression and other variants are refused
/// naming the feature.
/// </summary>
internal static class ScpEcgReader
{
    public const string FormatId = "scp-ecg";

    private const int SectionHeader = 16;

    public static bool CanRead(ReadOnlySpan<byte> span) => span.Length >= 22 && span[16..22].SequenceEqual("SCPECG"u8);

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        var span = file.Content.Span;
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(span[2..]);
        if (declared < 6 + SectionHeader || declared > span.Length)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"the record declares {declared} bytes, the file has {span.Length}"));
        }

        var record = span[..(int)declared];
        var flags = new List<string>();
        var warnings = new List<string>();
        var intact = Crc16(record[2..]) == BinaryPrimitives.ReadUInt16LittleEndian(record);
        if (!intact)
        {
            flags.Add("crc_mismatch:record");
            warnings.Add("The SCP-ECG record's CRC does not match its bytes; the file may be damaged.");
        }

        var sections = Pointers(record);
        foreach (var (id, (offset, length)) in sections)
        {
            var section = record.Slice(offset, length);
            if (BinaryPrimitives.ReadUInt16LittleEndian(section[2..]) != id)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"the pointer to section {id} leads to section {BinaryPrimitives.ReadUInt16LittleEndian(section[2..])}"));
            }

            // A record whose CRC matches has intact sections; otherwise each section's CRC says which one is damaged.
            if (!intact && id <= 7 && Crc16(section[2..]) != BinaryPrimitives.ReadUInt16LittleEndian(section))
            {
                flags.Add(string.Create(CultureInfo.InvariantCulture, $"crc_mismatch:section{id}"));
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"SCP-ECG section {id}'s CRC does not match its bytes; the file may be damaged."));
            }
        }

        if (sections.ContainsKey(1))
        {
            WalkHeaderTags(Body(record, sections, 1));
        }

        var huffman = sections.ContainsKey(2) ? ScpHuffman.Parse(Body(record, sections, 2)) : null;
        if (!sections.ContainsKey(3) || !sections.ContainsKey(6))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable,
                $"The SCP-ECG record has no {(sections.ContainsKey(3) ? "rhythm data (section 6)" : "lead definitions (section 3)")}; only rhythm recordings can be scored.");
        }

        var (leads, referenceSubtracted) = LeadDefinitions(Body(record, sections, 3), options);
        var rhythm = Data(Body(record, sections, 6), leads, huffman, "section 6", isRhythm: true);
        if (referenceSubtracted)
        {
            AddReferenceBeat(rhythm, Body(record, sections, 4), Body(record, sections, 5), leads, huffman, sections.ContainsKey(4) && sections.ContainsKey(5));
        }

        var builder = new RecordingBuilder(FormatId, rhythm.SampleRateHz);
        builder.Flags.AddRange(flags);
        builder.Warnings.AddRange(warnings);
        var scale = rhythm.NanovoltsPerCount / 1e6;
        for (var lead = 0; lead < leads.Length; lead++)
        {
            var label = LeadName(leads[lead].Id);
            if (builder.Resolve(label) is not { } resolved)
            {
                continue;
            }

            var counts = rhythm.Values[lead];
            var samples = new float[counts.Length];
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] = (float)(counts[i] * scale);
            }

            builder.Add(resolved, label, samples, scale);
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    private static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> record, Dictionary<int, (int Offset, int Length)> sections, int id) =>
        sections.TryGetValue(id, out var s) ? record.Slice(s.Offset + SectionHeader, s.Length - SectionHeader) : default;

    private readonly record struct LeadDefinition(int Id, long Start, long End)
    {
        public int Samples => (int)(End - Start + 1);
    }

    private sealed record Decoded(double SampleRateHz, double NanovoltsPerCount, int[][] Values);

    /// <summary>Section 0: id → (offset, length) of every section present, each checked to lie inside the record.</summary>
    private static Dictionary<int, (int Offset, int Length)> Pointers(ReadOnlySpan<byte> record)
    {
        var zero = record[6..];
        var length = BinaryPrimitives.ReadUInt32LittleEndian(zero[4..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(zero[2..]) != 0 || length < SectionHeader || length > zero.Length)
        {
            throw Malformed("section 0 (the pointer section) does not start the record");
        }

        var sections = new Dictionary<int, (int, int)>();
        for (var at = SectionHeader; at + 10 <= length; at += 10)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(zero[at..]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(zero[(at + 2)..]);
            var index = BinaryPrimitives.ReadUInt32LittleEndian(zero[(at + 6)..]);
            if (size == 0)
            {
                continue; // declared absent
            }

            if (size < SectionHeader || index < 1 || index - 1 + (long)size > record.Length)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"section {id} lies outside the record ({size} bytes at {index})"));
            }

            if (!sections.TryAdd(id, ((int)(index - 1), (int)size)))
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"section 0 points to section {id} twice"));
            }
        }

        return sections;
    }

    /// <summary>Section 1: tag (1 byte), length (2), value, up to tag 255. Only the structure is checked: the values are personal data.</summary>
    private static void WalkHeaderTags(ReadOnlySpan<byte> body)
    {
        var at = 0;
        while (at + 3 <= body.Length)
        {
            var tag = body[at];
            var length = BinaryPrimitives.ReadUInt16LittleEndian(body[(at + 1)..]);
            if (tag == 255)
            {
                return;
            }

            at += 3 + length;
        }

        if (at > body.Length)
        {
            throw Malformed("a section 1 header tag runs past the section");
        }
    }

    /// <summary>Section 3: number of leads, flags (bit 0: reference beat subtracted; bit 2: leads recorded together), then 9 bytes per lead.</summary>
    private static (LeadDefinition[] Leads, bool ReferenceSubtracted) LeadDefinitions(ReadOnlySpan<byte> body, EcgReadOptions options)
    {
        if (body.Length < 2)
        {
            throw Malformed("section 3 ends before its lead count");
        }

        int count = body[0], flags = body[1];
        if (count == 0 || body.Length < 2 + (9 * count))
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"section 3 declares {count} leads that it does not hold"));
        }

        var leads = new LeadDefinition[count];
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var s = body.Slice(2 + (9 * i), 9);
            var lead = new LeadDefinition(s[8], BinaryPrimitives.ReadUInt32LittleEndian(s), BinaryPrimitives.ReadUInt32LittleEndian(s[4..]));
            if (lead.Start < 1 || lead.End < lead.Start)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"lead {i + 1} of section 3 spans samples {lead.Start} to {lead.End}"));
            }

            total += lead.End - lead.Start + 1;
            Limits.CheckSamples(total, options, "The SCP-ECG record");
            leads[i] = lead;
        }

        if (leads.Any(l => l.Start != leads[0].Start || l.End != leads[0].End))
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                "The SCP-ECG leads were not recorded over the same samples (non-simultaneous leads, section 3); only simultaneously recorded leads are read.");
        }

        return (leads, (flags & 1) != 0);
    }

    /// <summary>
    /// Section 5 or 6: amplitude value multiplier (nV), sample interval (µs), difference coding, a byte that is bimodal
    /// compression in section 6, the byte length of each lead, then each lead's data.
    /// </summary>
    private static Decoded Data(ReadOnlySpan<byte> body, LeadDefinition[] leads, ScpHuffman? huffman, string section, bool isRhythm, int? samplesPerLead = null)
    {
        var header = 6 + (2 * leads.Length);
        if (body.Length < header)
        {
            throw Malformed($"{section} ends inside its header");
        }

        var avm = BinaryPrimitives.ReadUInt16LittleEndian(body);
        var interval = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
        var differences = body[4];
        if (avm == 0 || interval == 0)
        {
            throw Malformed($"{section} declares a zero amplitude multiplier or sample interval");
        }

        if (differences > 2)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, string.Create(CultureInfo.InvariantCulture,
                $"SCP-ECG {section} uses difference coding {differences}; original values, first and second differences are read."));
        }

        if (isRhythm && body[5] != 0)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                "SCP-ECG rhythm data with bimodal compression (section 6) is not read: the reduced-rate samples outside the QRS complexes would have to be interpolated. Export the ECG without bimodal compression, or as HL7 aECG, DICOM or WFDB.");
        }

        var values = new int[leads.Length][];
        var at = header;
        for (var lead = 0; lead < leads.Length; lead++)
        {
            var bytes = BinaryPrimitives.ReadUInt16LittleEndian(body[(6 + (2 * lead))..]);
            if (bytes > body.Length - at)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"{section} lead {lead + 1} declares {bytes} bytes, {body.Length - at} remain"));
            }

            var data = body.Slice(at, bytes);
            at += bytes;
            var output = new int[samplesPerLead ?? leads[lead].Samples];
            var what = string.Create(CultureInfo.InvariantCulture, $"{section} lead {lead + 1}");
            if (huffman is not null)
            {
                huffman.Decode(data, output, what);
            }
            else
            {
                if (data.Length < 2 * output.Length)
                {
                    throw Malformed(string.Create(CultureInfo.InvariantCulture, $"{what} holds {data.Length / 2} of {output.Length} samples"));
                }

                for (var i = 0; i < output.Length; i++)
                {
                    output[i] = BinaryPrimitives.ReadInt16LittleEndian(data[(2 * i)..]);
                }
            }

            Undifference(output, differences);
            values[lead] = output;
        }

        return new Decoded(1e6 / interval, avm, values);
    }

    /// <summary>
    /// First differences: x[n] = d[n] + x[n−1]; second: x[n] = d[n] + 2·x[n−1] − x[n−2] (the first one or two are
    /// values). The previous values are carried in locals: read back from the array, each step would wait for the
    /// store before it (a serial chain several times slower).
    /// </summary>
    private static void Undifference(Span<int> v, int order)
    {
        unchecked
        {
            if (order == 1 && v.Length > 0)
            {
                var previous = v[0];
                for (var i = 1; i < v.Length; i++)
                {
                    previous += v[i];
                    v[i] = previous;
                }
            }
            else if (order == 2 && v.Length > 1)
            {
                var (before, previous) = (v[0], v[1]);
                for (var i = 2; i < v.Length; i++)
                {
                    var x = v[i] + (2 * previous) - before;
                    v[i] = x;
                    (before, previous) = (previous, x);
                }
            }
        }
    }

    /// <summary>
    /// Reference beat subtraction undone: section 4 gives the reference beat's length and fiducial point and, for each
    /// QRS complex, its type and subtraction zone; the type-0 reference beat of section 5 is added back over each
    /// type-0 zone, aligned on the fiducial points. Both sections must use the rhythm's rate and amplitude unit.
    /// </summary>
    private static void AddReferenceBeat(Decoded rhythm, ReadOnlySpan<byte> four, ReadOnlySpan<byte> five, LeadDefinition[] leads, ScpHuffman? huffman, bool present)
    {
        if (!present || four.Length < 6)
        {
            throw Malformed("section 3 says the reference beat was subtracted, but sections 4 and 5 are missing");
        }

        var beatMs = BinaryPrimitives.ReadUInt16LittleEndian(four);
        var fiducial = BinaryPrimitives.ReadUInt16LittleEndian(four[2..]);
        var complexes = BinaryPrimitives.ReadUInt16LittleEndian(four[4..]);
        if (four.Length < 6 + (14 * complexes))
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"section 4 declares {complexes} QRS complexes that it does not hold"));
        }

        if (five.Length < 4)
        {
            throw Malformed("section 5 ends inside its header");
        }

        var referenceRate = 1e6 / Math.Max((ushort)1, BinaryPrimitives.ReadUInt16LittleEndian(five[2..]));
        var beatSamples = (int)Math.Round(beatMs * referenceRate / 1000);
        if (beatSamples <= 0 || beatSamples > rhythm.Values[0].Length)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"section 4 declares a reference beat of {beatMs} ms"));
        }

        var reference = Data(five, leads, huffman, "section 5", isRhythm: false, beatSamples);
        if (Math.Abs(reference.SampleRateHz - rhythm.SampleRateHz) > 1e-9 || reference.NanovoltsPerCount != rhythm.NanovoltsPerCount)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, string.Create(CultureInfo.InvariantCulture,
                $"The SCP-ECG reference beat ({reference.SampleRateHz:0.###} Hz, {reference.NanovoltsPerCount} nV) was subtracted from rhythm data at another rate or unit ({rhythm.SampleRateHz:0.###} Hz, {rhythm.NanovoltsPerCount} nV); this variant is not read."));
        }

        for (var q = 0; q < complexes; q++)
        {
            var s = four.Slice(6 + (14 * q), 14);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(s);
            var start = BinaryPrimitives.ReadUInt32LittleEndian(s[2..]);
            var center = BinaryPrimitives.ReadUInt32LittleEndian(s[6..]);
            var end = BinaryPrimitives.ReadUInt32LittleEndian(s[10..]);
            if (type != 0 || start == 0 || end < start)
            {
                continue;
            }

            for (var lead = 0; lead < leads.Length; lead++)
            {
                var x = rhythm.Values[lead];
                var beat = reference.Values[lead];
                for (long t = start; t <= end && t <= x.Length; t++)
                {
                    var r = t - center + fiducial - 1;
                    if (r >= 0 && r < beat.Length)
                    {
                        x[t - 1] = unchecked(x[t - 1] + beat[r]);
                    }
                }
            }
        }
    }

    /// <summary>Section 3 lead ids (EN 1064 Table 14) for the 12 standard leads; others keep a name that says what they are.</summary>
    private static string LeadName(int id) => id switch
    {
        1 => "I",
        2 => "II",
        >= 3 and <= 8 => $"V{id - 2}",
        61 => "III",
        62 => "aVR",
        63 => "aVL",
        64 => "aVF",
        65 => "-aVR",
        _ => string.Create(CultureInfo.InvariantCulture, $"SCP lead id {id}"),
    };

    /// <summary>
    /// CRC-CCITT (polynomial 0x1021, initial value 0xFFFF), as SCP-ECG computes it over a record or a section. Four bytes
    /// a step ("slicing by 4"): the CRC is linear, so the CRC after bytes b0…b3 is the XOR of table entries for
    /// (crc high byte ⊕ b0) followed by three zero bytes, (crc low byte ⊕ b1) by two, b2 by one and b3 by none; the four
    /// loads are independent, where the byte-wise loop waits on each one (a whole record is checked on every read).
    /// </summary>
    internal static ushort Crc16(ReadOnlySpan<byte> data)
    {
        var (t0, t1, t2, t3) = (CrcTables[0], CrcTables[1], CrcTables[2], CrcTables[3]);
        var crc = 0xFFFF;
        var at = 0;
        for (; at + 4 <= data.Length; at += 4)
        {
            crc = t3[(crc >> 8) ^ data[at]] ^ t2[(crc & 0xFF) ^ data[at + 1]] ^ t1[data[at + 2]] ^ t0[data[at + 3]];
        }

        for (; at < data.Length; at++)
        {
            crc = ((crc << 8) & 0xFFFF) ^ t0[(crc >> 8) ^ data[at]];
        }

        return (ushort)crc;
    }

    /// <summary>Table k: the CRC update for a byte followed by k zero bytes.</summary>
    private static readonly int[][] CrcTables = BuildCrcTables();

    private static int[][] BuildCrcTables()
    {
        var tables = new int[4][];
        tables[0] = new int[256];
        for (var i = 0; i < 256; i++)
        {
            var c = (ushort)(i << 8);
            for (var k = 0; k < 8; k++)
            {
                c = (c & 0x8000) != 0 ? (ushort)((c << 1) ^ 0x1021) : (ushort)(c << 1);
            }

            tables[0][i] = c;
        }

        for (var t = 1; t < 4; t++)
        {
            tables[t] = new int[256];
            for (var i = 0; i < 256; i++)
            {
                var c = tables[t - 1][i];
                tables[t][i] = ((c << 8) & 0xFFFF) ^ tables[0][c >> 8]; // one more zero byte
            }
        }

        return tables;
    }

    private static EcgFormatException Malformed(string what) => new(EcgErrorKind.Malformed, $"Not a valid SCP-ECG record: {what}.");
}
