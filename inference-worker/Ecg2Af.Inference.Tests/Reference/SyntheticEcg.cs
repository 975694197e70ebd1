using Ecg2Af.Ecg;

namespace Ecg2Af.Inference.Tests.Reference;

/// <summary>
/// A deterministic ECG-like 12-lead record: Gaussian P, QRS and T waves at a fixed heart rate, lead-specific gains,
/// baseline wander and a little noise, with III/aVR/aVL/aVF derived from I and II as a cart would. Good enough to put a
/// network's activations in their realistic range without any shared file.
/// </summary>
internal static class SyntheticEcg
{
    /// <summary>[samples, 12] row-major in mV, standard lead order.</summary>
    public static float[] Millivolts(int samples = 5000, double sampleRateHz = 500, double heartRateBpm = 72, int seed = 1)
    {
        var random = new Random(seed);
        var gains = new (double P, double Qrs, double T)[]
        {
            (0.10, 0.8, 0.25), (0.15, 1.2, 0.35), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0),
            (0.05, -0.9, -0.1), (0.08, 0.6, 0.4), (0.08, 1.1, 0.5), (0.07, 1.5, 0.5), (0.06, 1.3, 0.4), (0.05, 1.0, 0.3),
        };
        var beat = 60.0 / heartRateBpm;
        var phase = random.NextDouble() * beat;
        var data = new float[samples * 12];
        for (var i = 0; i < samples; i++)
        {
            var t = i / sampleRateHz;
            var local = ((t + phase) % beat) - (beat / 2);
            var p = Bump(local, -0.18, 0.025);
            var qrs = Bump(local, 0, 0.012) - (0.25 * Bump(local, 0.03, 0.01)) - (0.1 * Bump(local, -0.03, 0.008));
            var tw = Bump(local, 0.28, 0.05);
            var wander = 0.08 * Math.Sin(2 * Math.PI * 0.25 * t);
            for (var lead = 0; lead < 12; lead++)
            {
                var (gp, gq, gt) = gains[lead];
                data[(i * 12) + lead] = (float)((gp * p) + (gq * qrs) + (gt * tw) + wander + (0.01 * Gaussian(random)));
            }

            float lead1 = data[i * 12], lead2 = data[(i * 12) + 1];
            data[(i * 12) + 2] = lead2 - lead1;
            data[(i * 12) + 3] = -(lead1 + lead2) / 2;
            data[(i * 12) + 4] = lead1 - (lead2 / 2);
            data[(i * 12) + 5] = lead2 - (lead1 / 2);
        }

        return data;
    }

    /// <summary>The record z-scored over all values, as the ECG2AF input expects.</summary>
    public static float[] ZScored(int samples = 5000, double heartRateBpm = 72, int seed = 1)
    {
        var data = Millivolts(samples, 500, heartRateBpm, seed);
        Normalization.GlobalZScore(data, 1e-6);
        return data;
    }

    private static double Bump(double t, double centre, double width) => Math.Exp(-0.5 * Math.Pow((t - centre) / width, 2));

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
