using System.Globalization;
using System.Text;

namespace Ecg2Af.Ecg.Tests.Fixtures;

/// <summary>Writes EDF (int16) or BDF (int24) files from leads in mV, with one-second data records and optional extras.</summary>
internal static class EdfWriter
{
    public sealed record Signal(string Label, float[] Millivolts, string Dimension = "mV");

    /// <summary>
    /// Counts per mV are <paramref name="digitalPerMv"/> (the physical range is set so, with a symmetric digital range);
    /// <paramref name="reserved"/> is "" for EDF or "EDF+C"/"EDF+D"; <paramref name="annotations"/> adds an
    /// "EDF Annotations" signal of that many samples per record.
    /// </summary>
    public static byte[] Write(IReadOnlyList<Signal> signals, int samplesPerSecond, bool bdf = false, double digitalPerMv = 1000,
        string reserved = "", int annotations = 0)
    {
        var all = signals.Select(s => (s.Label, s.Dimension, s.Millivolts, Annotation: false)).ToList();
        if (annotations > 0)
        {
            all.Add(("EDF Annotations", "", new float[signals[0].Millivolts.Length / samplesPerSecond * annotations], true));
        }

        var ns = all.Count;
        var records = signals[0].Millivolts.Length / samplesPerSecond;
        var dmax = bdf ? 8_388_607 : 32_767;
        var header = new StringBuilder();
        header.Append(F(bdf ? "BIOSEMI" : "0", 8, bdf)).Append(F("X X X X", 80)).Append(F("Startdate X X X X", 80))
            .Append(F("01.01.20", 8)).Append(F("00.00.00", 8)).Append(F((256 * (ns + 1)).ToString(CultureInfo.InvariantCulture), 8))
            .Append(F(reserved, 44)).Append(F(records.ToString(CultureInfo.InvariantCulture), 8)).Append(F("1", 8))
            .Append(F(ns.ToString(CultureInfo.InvariantCulture), 4));
        foreach (var s in all)
        {
            header.Append(F(s.Label, 16));
        }

        foreach (var _ in all)
        {
            header.Append(F("AgAgCl electrode", 80));
        }

        foreach (var s in all)
        {
            header.Append(F(s.Dimension, 8));
        }

        // The physical range must fit 8 characters with its sign: round it when it does not, and scale the counts to match.
        var physical = dmax / digitalPerMv;
        if (all.Any(s => (-physical * Factor(s.Dimension)).ToString("G7", CultureInfo.InvariantCulture).Length > 8))
        {
            physical = Math.Round(physical);
            digitalPerMv = dmax / physical;
        }

        foreach (var s in all)
        {
            header.Append(F(s.Annotation ? "-1" : (-physical * Factor(s.Dimension)).ToString("G7", CultureInfo.InvariantCulture), 8));
        }

        foreach (var s in all)
        {
            header.Append(F(s.Annotation ? "1" : (physical * Factor(s.Dimension)).ToString("G7", CultureInfo.InvariantCulture), 8));
        }

        foreach (var _ in all)
        {
            header.Append(F((-dmax).ToString(CultureInfo.InvariantCulture), 8));
        }

        foreach (var _ in all)
        {
            header.Append(F(dmax.ToString(CultureInfo.InvariantCulture), 8));
        }

        foreach (var _ in all)
        {
            header.Append(F("HP:0.05Hz LP:150Hz", 80));
        }

        foreach (var s in all)
        {
            header.Append(F((s.Annotation ? annotations : samplesPerSecond).ToString(CultureInfo.InvariantCulture), 8));
        }

        foreach (var _ in all)
        {
            header.Append(F("", 32));
        }

        using var stream = new MemoryStream();
        var bytes = Encoding.Latin1.GetBytes(header.ToString());
        if (bdf)
        {
            bytes[0] = 0xFF;
        }

        stream.Write(bytes);
        var width = bdf ? 3 : 2;
        for (var r = 0; r < records; r++)
        {
            foreach (var s in all)
            {
                var count = s.Annotation ? annotations : samplesPerSecond;
                for (var j = 0; j < count; j++)
                {
                    var d = s.Annotation ? 0 : (int)Math.Round(s.Millivolts[(r * samplesPerSecond) + j] * digitalPerMv);
                    for (var b = 0; b < width; b++)
                    {
                        stream.WriteByte((byte)(d >> (8 * b)));
                    }
                }
            }
        }

        return stream.ToArray();
    }

    // Physical values are written in the signal's own dimension.
    private static double Factor(string dimension) => dimension == "uV" ? 1000 : 1;

    private static string F(string value, int width, bool bdfVersion = false) =>
        bdfVersion ? "\0" + value.PadRight(width - 1) : value.PadRight(width)[..width];
}
