using System.Buffers.Binary;
using System.Text;

namespace Ecg2Af.Ecg.Tests.Fixtures;

/// <summary>Writes a recording as a NumPy <c>.npy</c> (version 1.0) in the ECG2AF lead order, the way numpy.save lays it out.</summary>
internal static class NpyWriter
{
    public enum Layout
    {
        /// <summary>[T, 12] float32, C order (numpy's default for ECG arrays).</summary>
        SamplesByLeadsFloat32,

        /// <summary>[12, T] int16 big-endian, Fortran order: every variant the reader must undo at once.</summary>
        LeadsBySamplesInt16BigEndianFortran,

        /// <summary>[1, T, 12] float64.</summary>
        BatchOfOneFloat64,
    }

    /// <summary>Leads in <see cref="Leads.Standard12"/> order; int16 values are <paramref name="countsPerMv"/> × mV, rounded.</summary>
    public static byte[] Write(IReadOnlyDictionary<string, float[]> leads, Layout layout, double countsPerMv = 1000)
    {
        var names = Leads.Standard12;
        var t = leads[names[0]].Length;
        var (descr, shape, fortran) = layout switch
        {
            Layout.SamplesByLeadsFloat32 => ("<f4", $"({t}, 12)", false),
            Layout.LeadsBySamplesInt16BigEndianFortran => (">i2", $"(12, {t})", true),
            _ => ("<f8", $"(1, {t}, 12)", false),
        };
        var header = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        var padded = header.PadRight(((10 + header.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        stream.Write([1, 0]);
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(word, (ushort)padded.Length);
        stream.Write(word[..2]);
        stream.Write(Encoding.ASCII.GetBytes(padded));

        // [T,12] C order and [12,T] Fortran order both put the 12 leads of one sample next to each other.
        for (var s = 0; s < t; s++)
        {
            for (var c = 0; c < 12; c++)
            {
                var v = leads[names[c]][s];
                switch (layout)
                {
                    case Layout.SamplesByLeadsFloat32:
                        BinaryPrimitives.WriteSingleLittleEndian(word, v);
                        stream.Write(word[..4]);
                        break;
                    case Layout.LeadsBySamplesInt16BigEndianFortran:
                        BinaryPrimitives.WriteInt16BigEndian(word, checked((short)Math.Round(v * countsPerMv)));
                        stream.Write(word[..2]);
                        break;
                    default:
                        BinaryPrimitives.WriteDoubleLittleEndian(word, v);
                        stream.Write(word[..8]);
                        break;
                }
            }
        }
        return stream.ToArray();
    }
}
