using System.Globalization;

namespace Ecg2Af.LoadTests.Reporting;

/// <summary>Number formatting shared by the writers (invariant culture, so reports read the same everywhere).</summary>
internal static class Format
{
    public static string Ms(double value) => value switch
    {
        0 => "0",
        < 10 => value.ToString("0.00", CultureInfo.InvariantCulture),
        < 1000 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Rate(double value) => value.ToString(value < 100 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    public static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(double? value) => value is null ? "n/a" : value.Value.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Bytes(long value) => value switch
    {
        < 1024 => $"{value} B",
        < 1024 * 1024 => (value / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (value / 1024.0 / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (value / 1024.0 / 1024 / 1024).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };

    public static string Counts(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(p => $"{p.Key} × {p.Value.ToString(CultureInfo.InvariantCulture)}"));

    public static string Destinations(GatewayDestinations? gateway) => gateway switch
    {
        null => "not read",
        { Note: { } note } when gateway.Attempts.Count == 0 => note,
        _ => string.Join(", ", gateway.Attempts.Select(p => $"{p.Key} × {p.Value.ToString("0", CultureInfo.InvariantCulture)}")),
    };

    public static string Rejections(GatewayDestinations? gateway) => gateway is null || gateway.Rejected.Count == 0
        ? "none"
        : string.Join(", ", gateway.Rejected.Select(p => $"{p.Key} × {p.Value.ToString("0", CultureInfo.InvariantCulture)}"));

    /// <summary>The columns of the step table, in order, with each step's values.</summary>
    public static readonly string[] StepColumns =
        ["step", "ok", "failed", "dropped", "late", "ok/s", "min", "mean", "max", "stdev", "p50", "p75", "p95", "p99", "p99.9", "sent", "received"];

    public static string[] StepRow(StepReport s) =>
    [
        s.Name, Count(s.Ok), Count(s.Failed), Count(s.Dropped), Count(s.Late), Rate(s.OkPerSecond),
        Ms(s.Latency.MinMs), Ms(s.Latency.MeanMs), Ms(s.Latency.MaxMs), Ms(s.Latency.StdDevMs),
        Ms(s.Latency.P50Ms), Ms(s.Latency.P75Ms), Ms(s.Latency.P95Ms), Ms(s.Latency.P99Ms), Ms(s.Latency.P999Ms),
        Bytes(s.BytesSent), Bytes(s.BytesReceived),
    ];

    public static string Verdict(Thresholds.ThresholdResult t) =>
        $"{(t.Passed ? "PASS" : "FAIL")}  {t.Threshold}  (actual {Number(t.Actual)}{(t.Note is null ? "" : "; " + t.Note)})";
}
