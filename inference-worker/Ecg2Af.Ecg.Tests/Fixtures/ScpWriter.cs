using System.Buffers.Binary;
using Ecg2Af.Ecg.Formats;

namespace Ecg2Af.Ecg.Tests.Fixtures;

/// <summary>
/// Writes a minimal SCP-ECG record (sections 0, 3, 4, 5, 6; no section 2, so the data are plain int16 values, no
/// difference coding) with a reference beat, so that tests can hand the reader a rhythm from which the beat was
/// subtracted. No public sample uses reference-beat subtraction (Example.scp does not).
/// </summary>
internal static class ScpWriter
{
    /// <summary>One QRS complex of section 4: its beat type and subtraction zone (1-based samples, fiducial inside).</summary>
    public sealed record Complex(int Type, uint Start, uint Fiducial, uint End);

    private static readonly byte[] LeadIds = [1, 2, 61, 62, 63, 64, 3, 4, 5, 6, 7, 8]; // I, II, III, aVR, aVL, aVF, V1-V6

    /// <param name="rhythm">Twelve leads in the ECG2AF order, in counts, as section 6 stores them.</param>
    /// <param name="beat">The type-0 reference beat per lead, in counts (section 5).</param>
    /// <param name="fiducial">1-based sample of the beat's fiducial point.</param>
    /// <param name="complexes">Section 4's QRS complexes.</param>
    /// <param name="nanovoltsPerCount">Amplitude value multiplier of sections 5 and 6.</param>
    /// <param name="sampleIntervalUs">Sample interval of sections 5 and 6.</param>
    /// <param name="subtracted">Section 3's flag "reference beat subtracted".</param>
    /// <param name="withBeatSections">False: sections 4 and 5 are left out (a record that lies about its coding).</param>
    public static byte[] Write(
        int[][] rhythm, int[][] beat, ushort fiducial, IReadOnlyList<Complex> complexes, ushort nanovoltsPerCount, ushort sampleIntervalUs,
        bool subtracted, bool withBeatSections = true)
    {
        var samples = (uint)rhythm[0].Length;
        var three = new List<byte> { 12, (byte)((12 << 3) | 4 | (subtracted ? 1 : 0)) };
        foreach (var id in LeadIds)
        {
            three.AddRange(U32(1));
            three.AddRange(U32(samples));
            three.Add(id);
        }

        var beatMs = (ushort)(beat[0].Length * sampleIntervalUs / 1000);
        var four = new List<byte>();
        four.AddRange(U16(beatMs));
        four.AddRange(U16(fiducial));
        four.AddRange(U16((ushort)complexes.Count));
        foreach (var c in complexes)
        {
            four.AddRange(U16((ushort)c.Type));
            four.AddRange(U32(c.Start));
            four.AddRange(U32(c.Fiducial));
            four.AddRange(U32(c.End));
        }

        var sections = new List<(ushort Id, byte[] Body)> { (3, [.. three]) };
        if (withBeatSections)
        {
            sections.Add((4, [.. four]));
            sections.Add((5, Data(beat, nanovoltsPerCount, sampleIntervalUs)));
        }

        sections.Add((6, Data(rhythm, nanovoltsPerCount, sampleIntervalUs)));

        // Section 0 points at sections 0-11 (absent ones with length 0); offsets are 1-based in the record.
        const int header = 16;
        var zeroLength = header + (12 * 10);
        var offsets = new Dictionary<ushort, (int Index, int Length)>();
        var next = 6 + zeroLength + 1;
        foreach (var (id, body) in sections)
        {
            offsets[id] = (next, header + body.Length);
            next += header + body.Length;
        }

        var zero = new List<byte>();
        for (ushort id = 0; id < 12; id++)
        {
            var (index, length) = id == 0 ? (7, zeroLength) : offsets.GetValueOrDefault(id);
            zero.AddRange(U16(id));
            zero.AddRange(U32((uint)length));
            zero.AddRange(U32((uint)index));
        }

        var record = new List<byte>();
        record.AddRange(new byte[6]);
        record.AddRange(Section(0, [.. zero]));
        foreach (var (id, body) in sections)
        {
            record.AddRange(Section(id, body));
        }

        var bytes = record.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(2), (uint)bytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, ScpEcgReader.Crc16(bytes.AsSpan(2)));
        return bytes;
    }

    private static byte[] Data(int[][] leads, ushort nanovoltsPerCount, ushort sampleIntervalUs)
    {
        var body = new List<byte>();
        body.AddRange(U16(nanovoltsPerCount));
        body.AddRange(U16(sampleIntervalUs));
        body.Add(0); // original values, no differences
        body.Add(0); // no bimodal compression
        foreach (var lead in leads)
        {
            body.AddRange(U16((ushort)(2 * lead.Length)));
        }

        foreach (var lead in leads)
        {
            foreach (var v in lead)
            {
                body.AddRange(BitConverter.GetBytes(checked((short)v)));
            }
        }

        return [.. body];
    }

    private static byte[] Section(ushort id, byte[] body)
    {
        var section = new byte[16 + body.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(section.AsSpan(2), id);
        BinaryPrimitives.WriteUInt32LittleEndian(section.AsSpan(4), (uint)section.Length);
        section[8] = 20; // section version 2.0
        section[9] = 20; // protocol version 2.0
        "SCPECG"u8.CopyTo(section.AsSpan(10));
        body.CopyTo(section, 16);
        BinaryPrimitives.WriteUInt16LittleEndian(section, ScpEcgReader.Crc16(section.AsSpan(2)));
        return section;
    }

    private static byte[] U16(ushort v) => BitConverter.GetBytes(v);

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
}
