using System.Diagnostics;
using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.GpuCheck;

/// <summary>Throughput and latency per batch size through the worker's own runner (padding, IOBinding, warm-up as served).</summary>
internal static class Sweep
{
    public sealed record Point(int BatchSize, int Runs, double FirstMs, double P50Ms, double P99Ms, double EcgsPerSecond);

    public static IReadOnlyList<Point> Run(OnnxModelRunner runner, float[] oneEcg, IReadOnlyList<int> sizes, TimeSpan perSize, int minRuns)
    {
        var largest = sizes.Max();
        var input = new float[largest * runner.InputLength];
        for (var i = 0; i < largest; i++)
        {
            oneEcg.CopyTo(input, i * runner.InputLength);
        }

        var outputs = runner.Signature.Outputs.Select(o => new float[largest * o.Size]).ToArray();
        var points = new List<Point>();
        foreach (var size in sizes)
        {
            var memory = input.AsMemory(0, size * runner.InputLength);
            var times = new List<double>();
            var total = Stopwatch.StartNew();
            // The first run of each size: the runner warmed every allowed size up at load, so this is what the first
            // request after readiness pays.
            while (times.Count < minRuns || total.Elapsed < perSize)
            {
                var start = Stopwatch.GetTimestamp();
                runner.Run(memory, size, outputs);
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            var first = times[0];
            var sorted = times.Order().ToArray();
            var mean = times.Average();
            points.Add(new Point(size, times.Count, first, Percentile(sorted, 0.50), Percentile(sorted, 0.99), size / (mean / 1000)));
        }

        return points;
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
