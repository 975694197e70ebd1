using System.Text;

namespace Ecg2Af.LoadTests.Reporting;

/// <summary>The report as a plain-text table for the terminal (latencies in ms, from the scheduled send time).</summary>
public static class ConsoleReport
{
    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        var info = report.Info;
        text.AppendLine($"ecg2af-load  {info.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC  commit {info.Commit}  target {info.Target}{(info.SelfHosted ? $" (self-hosted, {info.Workers} workers)" : "")}");
        text.AppendLine($"machine: {info.Machine}, {info.Cores} cores, load average {info.LoadAverage}; {info.ClientAddresses} client addresses");
        foreach (var scenario in report.Scenarios)
        {
            text.AppendLine();
            text.AppendLine($"scenario {scenario.Name}: {scenario.Load}; ran {scenario.DurationSeconds:0.0} s");
            var rows = scenario.Steps.Select(Format.StepRow).ToList();
            if (scenario.Steps.Count > 1)
            {
                rows.Add(Format.StepRow(scenario.Total));
            }

            AppendTable(text, Format.StepColumns, rows);
            text.AppendLine($"  latency in ms from each request's scheduled send time; service time p50/p99 {Format.Ms(scenario.Total.ServiceTime.P50Ms)}/{Format.Ms(scenario.Total.ServiceTime.P99Ms)} ms");
            text.AppendLine($"  status codes: {Format.Counts(scenario.Total.StatusCodes)}");
            text.AppendLine($"  answered by (X-Ecg2Af-Worker): {Format.Counts(scenario.Total.Workers)}");
            text.AppendLine($"  gateway attempts per destination: {Format.Destinations(scenario.Gateway)}; answered by the gateway itself: {Format.Rejections(scenario.Gateway)}");
            foreach (var threshold in scenario.Thresholds)
            {
                text.AppendLine($"  {Format.Verdict(threshold)}");
            }
        }

        text.AppendLine();
        text.AppendLine(report.Passed ? "RESULT: all thresholds passed" : "RESULT: thresholds FAILED");
        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Row(string[] cells)
        {
            text.Append("  ");
            for (var i = 0; i < cells.Length; i++)
            {
                text.Append(i == 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
                text.Append(i == cells.Length - 1 ? "" : "  ");
            }

            text.AppendLine();
        }

        Row(header);
        text.Append("  ").AppendLine(new string('-', widths.Sum() + (2 * (widths.Length - 1))));
        foreach (var row in rows)
        {
            Row(row);
        }
    }
}
