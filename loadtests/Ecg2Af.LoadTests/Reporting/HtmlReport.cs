using System.Globalization;
using System.Net;
using System.Text;
using Ecg2Af.LoadTests.Measurement;

namespace Ecg2Af.LoadTests.Reporting;

/// <summary>
/// The report as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched): the step tables,
/// status codes, workers, thresholds, and per step a latency-over-time chart (p50, p95, p99, max of ok requests per
/// interval) and a throughput chart (ok, failed and dropped per second).
/// </summary>
public static class HtmlReport
{
    private const int Width = 760;
    private const int Height = 220;
    private const int Left = 56;
    private const int Bottom = 28;
    private const int Top = 12;
    private const int Right = 110;

    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        var info = report.Info;
        html.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ecg2Af load test report</title>");
        html.AppendLine("<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;margin:.5rem 0}"
            + "th,td{border:1px solid #ccc;padding:.2rem .45rem;font-size:.85rem;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}"
            + ".pass{color:#17612b}.fail{color:#a4161a;font-weight:bold}svg{background:#fafafa;border:1px solid #ddd;margin:.3rem .5rem .3rem 0}"
            + "h2{margin-top:2rem;border-bottom:1px solid #ccc}.note{color:#555;font-size:.85rem}</style></head><body>");
        html.AppendLine("<h1>Ecg2Af load test report</h1>");
        html.AppendLine("<p class=\"note\">Stand-in model: throughput and latency figures only; its outputs are not clinically meaningful.</p>");
        html.AppendLine("<ul>");
        html.AppendLine($"<li>Started {E(info.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))} UTC, commit <code>{E(info.Commit)}</code></li>");
        html.AppendLine($"<li>Machine: {E(info.Machine)}, {info.Cores} cores, load average {E(info.LoadAverage)}</li>");
        html.AppendLine($"<li>Target: {E(info.Target)}{(info.SelfHosted ? $" (self-hosted: gateway + {info.Workers} workers)" : "")}, {info.ClientAddresses} client addresses</li>");
        html.AppendLine($"<li>Command: <code>{E(info.CommandLine)}</code></li>");
        html.AppendLine($"<li>Result: <span class=\"{(report.Passed ? "pass" : "fail")}\">{(report.Passed ? "passed" : "FAILED")}</span></li>");
        html.AppendLine("</ul>");

        foreach (var scenario in report.Scenarios)
        {
            html.AppendLine($"<h2>Scenario {E(scenario.Name)}</h2>");
            if (scenario.Description.Length > 0)
            {
                html.AppendLine($"<p>{E(scenario.Description)}</p>");
            }

            html.AppendLine($"<p>Load: {E(scenario.Load)}. Ran {scenario.DurationSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s. Latencies in ms from each request's scheduled send time.</p>");
            html.AppendLine("<table><tr>" + string.Concat(Format.StepColumns.Select(c => $"<th>{E(c)}</th>")) + "</tr>");
            var steps = scenario.Steps.Count > 1 ? scenario.Steps.Append(scenario.Total) : scenario.Steps;
            foreach (var step in steps)
            {
                var row = Format.StepRow(step);
                html.AppendLine("<tr>" + string.Concat(row.Select((c, i) => i == 0 ? $"<td>{E(c)}</td>" : $"<td class=\"n\">{E(c)}</td>")) + "</tr>");
            }

            html.AppendLine("</table>");
            html.AppendLine($"<p>Status codes: {E(Format.Counts(scenario.Total.StatusCodes))}<br>Answered by (X-Ecg2Af-Worker): {E(Format.Counts(scenario.Total.Workers))}<br>"
                + $"Gateway attempts per destination: {E(Format.Destinations(scenario.Gateway))}<br>"
                + $"Answered by the gateway itself: {E(Format.Rejections(scenario.Gateway))}</p>");
            html.AppendLine("<table><tr><th>threshold</th><th>actual</th><th>verdict</th></tr>");
            foreach (var t in scenario.Thresholds)
            {
                html.AppendLine($"<tr><td><code>{E(t.Threshold)}</code></td><td class=\"n\">{E(Format.Number(t.Actual))}</td>"
                    + $"<td class=\"{(t.Passed ? "pass" : "fail")}\">{(t.Passed ? "pass" : "FAIL")}{(t.Note is null ? "" : " (" + E(t.Note) + ")")}</td></tr>");
            }

            html.AppendLine("</table>");
            foreach (var step in steps)
            {
                html.AppendLine($"<h3>{E(scenario.Name)} / {E(step.Name)}: over time</h3>");
                html.AppendLine(Chart("latency of ok requests (ms)", step.Timeline,
                    [("p50", "#1f77b4", p => p.P50Ms), ("p95", "#ff7f0e", p => p.P95Ms), ("p99", "#d62728", p => p.P99Ms), ("max", "#7f7f7f", p => p.MaxMs)]));
                html.AppendLine(Chart("requests per second", step.Timeline,
                    [("ok/s", "#2ca02c", p => p.OkPerSecond), ("failed", "#d62728", p => p.Failed / Interval(step.Timeline)), ("dropped", "#9467bd", p => p.Dropped / Interval(step.Timeline))]));
            }
        }

        html.AppendLine("</body></html>");
        return html.ToString();
    }

    /// <summary>An SVG line chart of the series over the timeline (x: seconds since start).</summary>
    internal static string Chart(string title, IReadOnlyList<TimelinePoint> points, (string Name, string Color, Func<TimelinePoint, double> Value)[] series)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{E(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"10\" font-size=\"11\">{E(title)}</text>");
        if (points.Count == 0)
        {
            svg.Append("<text x=\"60\" y=\"100\" font-size=\"12\">no data</text></svg>");
            return svg.ToString();
        }

        var xMax = Math.Max(points[^1].AtSeconds, 1e-9);
        var yMax = Nice(points.SelectMany(p => series.Select(s => s.Value(p))).DefaultIfEmpty(0).Max());
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        double X(double t) => Left + (t / xMax * plotW);
        double Y(double v) => Top + plotH - (v / yMax * plotH);
        for (var i = 0; i <= 4; i++)
        {
            var v = yMax * i / 4;
            var y = Y(v);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#e3e3e3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{y + 4:0.#}\" font-size=\"10\" text-anchor=\"end\">{Format.Number(Math.Round(v, 3))}</text>");
        }

        for (var i = 0; i <= 5; i++)
        {
            var t = xMax * i / 5;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(t):0.#}\" y=\"{Height - 8}\" font-size=\"10\" text-anchor=\"middle\">{t:0.#} s</text>");
        }

        for (var s = 0; s < series.Length; s++)
        {
            var (name, color, value) = series[s];
            var path = string.Join(" ", points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.AtSeconds):0.#},{Y(value(p)):0.#}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{path}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Width - Right + 10}\" y=\"{Top + 4 + (s * 16)}\" width=\"10\" height=\"10\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 25}\" y=\"{Top + 13 + (s * 16)}\" font-size=\"11\">{E(name)}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static double Interval(IReadOnlyList<TimelinePoint> points) =>
        points.Count < 2 ? Math.Max(points.Count == 0 ? 1 : points[0].AtSeconds, 1e-9) : Math.Max(points[1].AtSeconds - points[0].AtSeconds, 1e-9);

    private static double Nice(double max)
    {
        if (max <= 0 || double.IsNaN(max))
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(max)));
        foreach (var step in new[] { 1.0, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= max)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
