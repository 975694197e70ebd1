using System.Text;

namespace Ecg2Af.LoadTests.Reporting;

/// <summary>The report as Markdown: one section per scenario with the step table, status codes, workers and thresholds.</summary>
public static class MarkdownReport
{
    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        var info = report.Info;
        md.AppendLine("# Load test report");
        md.AppendLine();
        md.AppendLine($"- Started: {info.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC, commit `{info.Commit}`");
        md.AppendLine($"- Machine: {info.Machine}, {info.Cores} cores, load average {info.LoadAverage}");
        md.AppendLine($"- Target: {info.Target}{(info.SelfHosted ? $" (self-hosted: gateway + {info.Workers} workers)" : "")}, {info.ClientAddresses} client addresses");
        md.AppendLine($"- Command: `{info.CommandLine}`");
        md.AppendLine($"- Result: **{(report.Passed ? "passed" : "FAILED")}**");
        foreach (var scenario in report.Scenarios)
        {
            md.AppendLine();
            md.AppendLine($"## Scenario `{scenario.Name}`");
            md.AppendLine();
            if (scenario.Description.Length > 0)
            {
                md.AppendLine(scenario.Description);
                md.AppendLine();
            }

            md.AppendLine($"Load: {scenario.Load}. Ran {scenario.DurationSeconds:0.0} s. Latencies in ms, counted from each request's scheduled send time.");
            md.AppendLine();
            md.AppendLine("| " + string.Join(" | ", Format.StepColumns) + " |");
            md.AppendLine("|" + string.Join("|", Format.StepColumns.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
            var rows = scenario.Steps.Select(Format.StepRow).ToList();
            if (scenario.Steps.Count > 1)
            {
                rows.Add(Format.StepRow(scenario.Total));
            }

            foreach (var row in rows)
            {
                md.AppendLine("| " + string.Join(" | ", row) + " |");
            }

            md.AppendLine();
            md.AppendLine($"- Service time (from the actual send), p50 / p99: {Format.Ms(scenario.Total.ServiceTime.P50Ms)} / {Format.Ms(scenario.Total.ServiceTime.P99Ms)} ms");
            md.AppendLine($"- Status codes: {Format.Counts(scenario.Total.StatusCodes)}");
            md.AppendLine($"- Answered by (X-Ecg2Af-Worker): {Format.Counts(scenario.Total.Workers)}");
            md.AppendLine($"- Gateway attempts per destination ({scenario.Gateway?.Metric ?? "/metrics"}): {Format.Destinations(scenario.Gateway)}");
            md.AppendLine($"- Answered by the gateway itself, by reason: {Format.Rejections(scenario.Gateway)}");
            md.AppendLine();
            md.AppendLine("| threshold | actual | verdict |");
            md.AppendLine("|---|---:|---|");
            foreach (var t in scenario.Thresholds)
            {
                md.AppendLine($"| `{t.Threshold}` | {Format.Number(t.Actual)} | {(t.Passed ? "pass" : "**FAIL**")}{(t.Note is null ? "" : " (" + t.Note + ")")} |");
            }
        }

        return md.ToString();
    }
}
