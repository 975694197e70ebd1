using HdrHistogram;

namespace Ecg2Af.LoadTests.Measurement;

/// <summary>Latency histograms in microseconds, 1 µs to 1 hour, three significant digits (0.1 % resolution).</summary>
public static class Histograms
{
    public const long Lowest = 1;
    public const long Highest = 3_600_000_000;
    public const int Digits = 3;

    public static LongConcurrentHistogram Concurrent() => new(Lowest, Highest, Digits);

    public static LongHistogram Plain() => new(Lowest, Highest, Digits);

    /// <summary>An interval recorder: writers never block, the sampler swaps the interval histogram out.</summary>
    public static Recorder IntervalRecorder() =>
        new(Lowest, Highest, Digits, (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));

    /// <summary>Clamps a duration into the histogram's range (sub-microsecond answers count as 1 µs).</summary>
    public static long Microseconds(long stopwatchTicks) =>
        Math.Clamp((long)(stopwatchTicks * 1_000_000.0 / System.Diagnostics.Stopwatch.Frequency), Lowest, Highest);
}

/// <summary>Latency statistics in milliseconds, as the reports print them.</summary>
public sealed record LatencyStats(
    long Count, double MinMs, double MeanMs, double MaxMs, double StdDevMs,
    double P50Ms, double P75Ms, double P95Ms, double P99Ms, double P999Ms)
{
    public static LatencyStats Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>
    /// Statistics of <paramref name="histogram"/> (µs). Min and max are the exact extremes when given (the histogram
    /// keeps them only to its resolution).
    /// </summary>
    public static LatencyStats From(HistogramBase histogram, long? exactMinUs = null, long? exactMaxUs = null)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.TotalCount == 0)
        {
            return Empty;
        }

        static double Ms(double us) => us / 1000.0;
        var min = exactMinUs ?? histogram.RecordedValues().First().ValueIteratedTo;
        var max = exactMaxUs ?? histogram.GetMaxValue();
        return new LatencyStats(
            histogram.TotalCount,
            Ms(min),
            Ms(histogram.GetMean()),
            Ms(max),
            Ms(histogram.GetStdDeviation()),
            Ms(histogram.GetValueAtPercentile(50)),
            Ms(histogram.GetValueAtPercentile(75)),
            Ms(histogram.GetValueAtPercentile(95)),
            Ms(histogram.GetValueAtPercentile(99)),
            Ms(histogram.GetValueAtPercentile(99.9)));
    }

    /// <summary>The value of a named statistic (p50, p75, p95, p99, p99.9, mean, min, max, stdev), in ms.</summary>
    public double? Get(string name) => name switch
    {
        "p50" => P50Ms,
        "p75" => P75Ms,
        "p95" => P95Ms,
        "p99" => P99Ms,
        "p99.9" or "p999" => P999Ms,
        "mean" => MeanMs,
        "min" => MinMs,
        "max" => MaxMs,
        "stdev" => StdDevMs,
        _ => null,
    };
}
