using System.Numerics.Tensors;

namespace Ecg2Af.Ecg;

/// <summary>Input normalisation.</summary>
public static class Normalization
{
    /// <summary>
    /// In place: <c>x = (x − mean) / (std + eps)</c> with one mean and one population std (ddof 0) over all values,
    /// as ml4h's <c>ZeroMeanStd1</c> and the XDL loader do. Sums run in float32 SIMD lanes, like numpy's pairwise float32
    /// sums on the same array. Returns the mean and std removed.
    /// </summary>
    public static (double Mean, double Std) GlobalZScore(Span<float> data, double epsilon)
    {
        if (data.IsEmpty)
        {
            return (0, 0);
        }

        var mean = TensorPrimitives.Sum<float>(data) / data.Length;
        TensorPrimitives.Subtract(data, mean, data);
        var std = Math.Sqrt(TensorPrimitives.SumOfSquares<float>(data) / data.Length);
        TensorPrimitives.Multiply(data, (float)(1.0 / (std + epsilon)), data);
        return (mean, std);
    }
}
