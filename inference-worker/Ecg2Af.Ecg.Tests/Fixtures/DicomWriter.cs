using System.Buffers.Binary;
using System.Text;

namespace Ecg2Af.Ecg.Tests.Fixtures;

/// <summary>
/// Writes a 12-lead ECG waveform as DICOM explicit VR little endian with sequences and items of undefined length,
/// MDC lead codes and sensitivity in mV: the variants the real (implicit VR, SCP-ECG coded, µV) sample does not cover.
/// </summary>
internal static class DicomWriter
{
    /// <param name="leadsMv">Lead name to samples (mV); stored as int16 counts of <paramref name="stepMv"/>.</param>
    /// <param name="stepMv">Millivolts per count, written as sensitivity 1.0 mV with this correction factor.</param>
    /// <param name="sampleRateHz">Sampling frequency.</param>
    public static byte[] Write(IReadOnlyDictionary<string, float[]> leadsMv, double stepMv, double sampleRateHz)
    {
        var names = leadsMv.Keys.ToList();
        var samples = leadsMv[names[0]].Length;
        var data = new byte[names.Count * samples * 2];
        for (var t = 0; t < samples; t++)
        {
            for (var c = 0; c < names.Count; c++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(((t * names.Count) + c) * 2), checked((short)Math.Round(leadsMv[names[c]][t] / stepMv)));
            }
        }

        var channels = new List<byte[]>();
        foreach (var name in names)
        {
            var code = Array.IndexOf(["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"], name) is var i and >= 0
                ? $"2:{i + 1}"
                : $"2:{61 + Array.IndexOf(["III", "aVR", "aVL", "aVF"], name)}";
            channels.Add(Concat(
                Sequence(0x003A, 0x0208, Concat(Text(0x0008, 0x0100, "SH", code), Text(0x0008, 0x0102, "SH", "MDC"), Text(0x0008, 0x0104, "LO", $"Lead {name}"))),
                Text(0x003A, 0x0210, "DS", "1.0"),
                Sequence(0x003A, 0x0211, Concat(Text(0x0008, 0x0100, "SH", "mV"), Text(0x0008, 0x0102, "SH", "UCUM"))),
                Text(0x003A, 0x0212, "DS", stepMv.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
                Text(0x003A, 0x0213, "DS", "0")));
        }

        var group = Concat(
            Short(0x003A, 0x0005, "US", (ushort)names.Count),
            Element(0x003A, 0x0010, "UL", BitConverter.GetBytes((uint)samples)),
            Text(0x003A, 0x001A, "DS", sampleRateHz.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Text(0x003A, 0x0020, "LO", "RHYTHM"),
            Sequence(0x003A, 0x0200, [.. channels]),
            Short(0x5400, 0x1004, "US", 16),
            Text(0x5400, 0x1006, "CS", "SS"),
            Element(0x5400, 0x100A, "OW", [0x00, 0x80]),
            Element(0x5400, 0x1010, "OW", data));

        var dataset = Concat(
            Text(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.9.1.1"),
            Text(0x0008, 0x0060, "CS", "ECG"),
            Sequence(0x5400, 0x0100, group));
        var meta = Concat(
            Text(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.9.1.1"),
            Text(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1"));
        return Concat(new byte[128], "DICM"u8.ToArray(), meta, dataset);
    }

    private static byte[] Sequence(ushort group, ushort element, params byte[][] items)
    {
        var body = new List<byte>();
        foreach (var item in items)
        {
            body.AddRange(Tag(0xFFFE, 0xE000));
            body.AddRange(BitConverter.GetBytes(0xFFFF_FFFFu));
            body.AddRange(item);
            body.AddRange(Tag(0xFFFE, 0xE00D));
            body.AddRange(new byte[4]);
        }

        body.AddRange(Tag(0xFFFE, 0xE0DD));
        body.AddRange(new byte[4]);
        return Concat(Tag(group, element), "SQ"u8.ToArray(), [0, 0], BitConverter.GetBytes(0xFFFF_FFFFu), [.. body]);
    }

    private static byte[] Text(ushort group, ushort element, string vr, string value)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        if (bytes.Length % 2 == 1)
        {
            bytes = [.. bytes, vr == "UI" ? (byte)0 : (byte)' '];
        }

        return Element(group, element, vr, bytes);
    }

    private static byte[] Short(ushort group, ushort element, string vr, ushort value) => Element(group, element, vr, BitConverter.GetBytes(value));

    private static byte[] Element(ushort group, ushort element, string vr, byte[] value) => vr is "OB" or "OW" or "SQ" or "UN" or "UT"
        ? Concat(Tag(group, element), Encoding.ASCII.GetBytes(vr), [0, 0], BitConverter.GetBytes((uint)value.Length), value)
        : Concat(Tag(group, element), Encoding.ASCII.GetBytes(vr), BitConverter.GetBytes((ushort)value.Length), value);

    private static byte[] Tag(ushort group, ushort element) => [.. BitConverter.GetBytes(group), .. BitConverter.GetBytes(element)];

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
