using System.Numerics;

namespace Ecg2Af.Ecg;

/// <summary>Resampling of one lead.</summary>
public static class Resampling
{
    /// <summary>
    /// Brings a lead to <paramref name="count"/> samples spanning the same time (endpoints aligned, as ml4h's XDL
    /// loader does). Upsampling is linear interpolation, as in ml4h. Downsampling interpolates a low-passed copy
    /// (cutoff at 0.4 × the new rate, see <see cref="LowPassTaps"/>), so that nothing the new rate cannot hold folds
    /// back into the ECG band. The filter is evaluated only where the interpolation needs it.
    /// </summary>
    public static float[] ToCount(ReadOnlySpan<float> source, int count)
    {
        var n = source.Length;
        if (count >= n || n < 2 || count < 2)
        {
            return Linear(source, count);
        }

        var taps = LowPassTaps(0.4 * count / n, transition: 0.1 * count / n);
        var half = taps.Length / 2;
        var result = new float[count];
        var step = (double)(n - 1) / (count - 1);
        var cachedIndex = -1;
        var cached = 0.0;
        for (var j = 0; j < count; j++)
        {
            var x = j * step;
            var k = Math.Min((int)x, n - 2);
            var a = k == cachedIndex ? cached : Filtered(source, taps, half, k);
            var b = Filtered(source, taps, half, k + 1);
            (cachedIndex, cached) = (k + 1, b);
            result[j] = (float)(a + ((b - a) * (x - k)));
        }

        return result;
    }

    /// <summary>
    /// Linear interpolation onto <paramref name="count"/> points with both endpoints aligned, as ml4h's XDL loader does:
    /// <c>np.interp(linspace(0, 1, count), linspace(0, 1, n), x)</c>.
    /// </summary>
    public static float[] Linear(ReadOnlySpan<float> source, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var result = new float[count];
        var n = source.Length;
        if (n == 0)
        {
            return result;
        }

        if (n == 1 || count == 1)
        {
            result.AsSpan().Fill(source[0]);
            return result;
        }

        var step = (double)(n - 1) / (count - 1);
        for (var j = 0; j < count; j++)
        {
            var x = j * step;
            var k = Math.Min((int)x, n - 2);
            var frac = x - k;
            result[j] = (float)(source[k] + ((source[k + 1] - source[k]) * frac));
        }

        return result;
    }

    /// <summary>
    /// Zero-phase low-pass FIR over the whole lead (windowed sinc, Blackman window): cutoff and transition width in
    /// cycles per sample. The ends are extended with the first and last sample; the gain at DC is exactly 1.
    /// </summary>
    public static float[] LowPass(ReadOnlySpan<float> source, double cutoff, double transition)
    {
        var taps = LowPassTaps(cutoff, transition);
        var result = new float[source.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (float)Filtered(source, taps, taps.Length / 2, i);
        }

        return result;
    }

    /// <summary>
    /// Taps of a windowed-sinc low-pass normalised to unit gain at DC. A Blackman window needs about 5.5 / transition
    /// taps; the length is capped at 4097 so that absurd rate ratios stay bounded in time.
    /// </summary>
    internal static float[] LowPassTaps(double cutoff, double transition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoff);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cutoff, 0.5);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(transition);
        var half = (int)Math.Min(2048, Math.Ceiling(5.5 / transition / 2));
        var taps = new double[(2 * half) + 1];
        double sum = 0;
        for (var k = -half; k <= half; k++)
        {
            var sinc = k == 0 ? 2 * cutoff : Math.Sin(2 * Math.PI * cutoff * k) / (Math.PI * k);
            var window = 0.42 + (0.5 * Math.Cos(Math.PI * k / half)) + (0.08 * Math.Cos(2 * Math.PI * k / half));
            taps[k + half] = sinc * window;
            sum += taps[k + half];
        }

        return [.. taps.Select(t => (float)(t / sum))];
    }

    private static double Filtered(ReadOnlySpan<float> source, float[] taps, int half, int i)
    {
        var n = source.Length;
        if (i - half >= 0 && i + half < n)
        {
            return Dot(source.Slice(i - half, taps.Length), taps);
        }

        double acc = 0;
        for (var m = -half; m <= half; m++)
        {
            acc += taps[m + half] * source[Math.Clamp(i + m, 0, n - 1)];
        }

        return acc;
    }

    /// <summary>Dot product in SIMD lanes (the FIR's inner loop).</summary>
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var result = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            result += a[i] * b[i];
        }

        return result;
    }
}
