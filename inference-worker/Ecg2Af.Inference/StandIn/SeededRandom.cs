namespace Ecg2Af.Inference.StandIn;

/// <summary>
/// SplitMix64: a tiny generator with a fixed, documented sequence, so a seed gives the same weights on every
/// platform and .NET version (System.Random makes no such promise).
/// </summary>
internal sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform values with mean 0 and standard deviation <paramref name="std"/> (range ±√3·std).</summary>
    public float[] Uniform(int count, double std)
    {
        var half = Math.Sqrt(3) * std;
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(((2 * NextDouble()) - 1) * half);
        }

        return values;
    }
}
