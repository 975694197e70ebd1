namespace Ecg2Af.Ecg;

/// <summary>Resampling of one lead.</summary>
public static class Resampling
{
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
}
