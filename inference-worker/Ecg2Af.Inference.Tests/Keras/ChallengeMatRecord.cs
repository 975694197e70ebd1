using System.Buffers.Binary;
using System.Globalization;

namespace Ecg2Af.Inference.Tests.Keras;

/// <summary>
/// Just enough of the PhysioNet/CinC Challenge WFDB layout to feed the fixture models (the product's WFDB reader is
/// written elsewhere): the <c>.hea</c> gives per-signal gain, baseline, first value and lead name; the <c>.mat</c> is a
/// MATLAB v4 file, a 20-byte header (type, rows, cols, imagf, name length), the variable name, then int16 data stored
/// column-major with one column per sample.
/// </summary>
internal sealed record ChallengeMatRecord(int SampleRateHz, int Samples, IReadOnlyList<string> Leads, float[] Millivolts)
{
    /// <summary>Reads <paramref name="headerPath"/> and its .mat; values are [samples, leads] row-major in mV.</summary>
    public static ChallengeMatRecord Read(string headerPath)
    {
        var lines = File.ReadAllLines(headerPath).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        var record = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int signals = int.Parse(record[1], CultureInfo.InvariantCulture), rate = int.Parse(record[2], CultureInfo.InvariantCulture);
        var samples = int.Parse(record[3], CultureInfo.InvariantCulture);
        var signalLines = lines.Skip(1).Take(signals).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var matPath = Path.Combine(Path.GetDirectoryName(headerPath)!, signalLines[0][0]);
        var bytes = File.ReadAllBytes(matPath);

        var type = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var rows = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        var cols = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        var imaginary = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        var nameLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
        var offset = 20 + nameLength;
        // type 30 = little-endian (M=0), int16 (P=3), full matrix (T=0).
        if (type != 30 || rows != signals || cols != samples || imaginary != 0 || bytes.Length != offset + (2 * rows * cols))
        {
            throw new InvalidDataException($"{matPath}: unexpected MATLAB v4 header (type {type}, {rows}×{cols}).");
        }

        var leads = new List<string>();
        var millivolts = new float[samples * signals];
        for (var s = 0; s < signals; s++)
        {
            var fields = signalLines[s];
            if (!fields[1].StartsWith("16+", StringComparison.Ordinal) || int.Parse(fields[1][3..], CultureInfo.InvariantCulture) != offset)
            {
                throw new InvalidDataException($"{headerPath}: format {fields[1]} does not match the .mat data offset {offset}.");
            }

            // "1000/mV" or "1000(0)/mV": gain, optional baseline (defaults to the ADC zero, field 4).
            var gainText = fields[2].Split('/')[0];
            var baseline = int.Parse(fields[4], CultureInfo.InvariantCulture);
            if (gainText.Contains('(', StringComparison.Ordinal))
            {
                baseline = int.Parse(gainText[(gainText.IndexOf('(', StringComparison.Ordinal) + 1)..^1], CultureInfo.InvariantCulture);
                gainText = gainText[..gainText.IndexOf('(', StringComparison.Ordinal)];
            }

            var gain = double.Parse(gainText, CultureInfo.InvariantCulture);
            var first = int.Parse(fields[5], CultureInfo.InvariantCulture);
            leads.Add(fields[^1]);
            for (var t = 0; t < samples; t++)
            {
                var count = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(offset + (2 * ((t * rows) + s))));
                if (t == 0 && count != first)
                {
                    throw new InvalidDataException($"{matPath}: first sample of {fields[^1]} is {count}, header says {first}.");
                }

                millivolts[(t * signals) + s] = (float)((count - baseline) / gain);
            }
        }

        return new ChallengeMatRecord(rate, samples, leads, millivolts);
    }
}
