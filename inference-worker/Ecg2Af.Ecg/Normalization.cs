namespace Ecg2Af.Ecg;

/// <summary>Input normalisation.</summary>
public static class Normalization
{
    /// <summary>
    /// In place: <c>x = (x − mean) / (std + eps)</c> with one mean and one population std (ddof 0) over all values,
    /// as ml4h's <c>ZeroMeanStd1</c> and the XDL loader do. Sums are taken in double. Returns the mean and std removed.
    /// </summary>
    public static (double Mean, double Std) GlobalZScore(Span<float> data, double epsilon)
    {
        if (data.IsEmpty)
        {
            return (0, 0);
        }

        double sum = 0;
        foreach (var v in data)
        {
            sum += v;
        }

        var mean = sum / data.Length;
        double squares = 0;
        foreach (var v in data)
        {
            var d = v - mean;
            squares += d * d;
        }

        var std = Math.Sqrt(squares / data.Length);
        var scale = 1.0 / (std + epsilon);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)((data[i] - mean) * scale);
        }

        return (mean, std);
    }
}
