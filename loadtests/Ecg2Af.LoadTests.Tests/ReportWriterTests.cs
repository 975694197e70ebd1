using System.Diagnostics;
using System.Text.RegularExpressions;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Tests;

public class ReportWriterTests
{
    private static RunReport Sample()
    {
        var total = new StepRecorder("all");
        var upload = new StepRecorder("web-form", total);
        var stat = new StepRecorder("stat", total);
        for (var i = 1; i <= 50; i++)
        {
            var ticks = (long)(i * 10 / 1000.0 * Stopwatch.Frequency);
            (i % 5 == 0 ? stat : upload).Record(new Outcome(true, 200, null, 0, 0, ticks, 1000, 2000, $"worker-{i % 2}"));
            if (i % 10 == 0)
            {
                foreach (var r in new[] { upload, stat, total })
                {
                    r.Sample(TimeSpan.FromSeconds(i / 10.0), TimeSpan.FromSeconds(1));
                }
            }
        }

        upload.Record(new Outcome(false, 503, null, 0, 0, 100, 1000, 10, "worker-0"));
        var elapsed = TimeSpan.FromSeconds(5);
        var scenario = new ScenarioReport("stat-mix", "A <mix> & more", "inject 10/s for 5 s", 5, false,
            [StepReport.From(upload, elapsed), StepReport.From(stat, elapsed)], StepReport.From(total, elapsed),
            new GatewayDestinations("ecg2af_gateway_upstream_requests_total", new Dictionary<string, double> { ["worker-0"] = 26, ["worker-1"] = 25 }, null), []);
        scenario = scenario with
        {
            Thresholds = [Threshold.Parse("fail_ratio <= 0").Evaluate(scenario), Threshold.Parse("p99 < 60s").Evaluate(scenario)],
        };
        var info = new RunInfo(new DateTimeOffset(2026, 11, 27, 3, 0, 0, TimeSpan.Zero), "abc123", "AMD EPYC", 2, "1.0 1.0 1.0", "http://127.0.0.1:8080/", true, 2, 50, "ecg2af-load --self-host");
        return new RunReport(info, [scenario]);
    }

    [Fact]
    public void Console_Table_HasNbomberColumnsPerStepAndVerdicts()
    {
        var text = ConsoleReport.Render(Sample());

        Assert.Contains("step", text, StringComparison.Ordinal);
        foreach (var column in new[] { "ok", "failed", "ok/s", "min", "mean", "max", "stdev", "p50", "p75", "p95", "p99", "p99.9", "sent", "received" })
        {
            Assert.Matches(new Regex($@"\s{Regex.Escape(column)}\s"), text);
        }

        Assert.Matches(new Regex(@"^\s+web-form\s+40\s+1\s", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^\s+stat\s+10\s+0\s", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^\s+all\s+50\s+1\s", RegexOptions.Multiline), text);
        Assert.Contains("200 × 50, 503 × 1", text, StringComparison.Ordinal);
        Assert.Contains("worker-0 × 26, worker-1 × 25", text, StringComparison.Ordinal);
        Assert.Contains("FAIL  fail_ratio <= 0", text, StringComparison.Ordinal);
        Assert.Contains("PASS  p99 < 60s", text, StringComparison.Ordinal);
        Assert.Contains("RESULT: thresholds FAILED", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_TablesParseAsMarkdown()
    {
        var md = MarkdownReport.Render(Sample());

        var tableLines = md.Split('\n').Where(l => l.StartsWith('|')).ToList();
        var header = tableLines.First(l => l.Contains("| step |", StringComparison.Ordinal));
        var columns = header.Count(c => c == '|');
        var stepRows = tableLines.SkipWhile(l => l != header).Skip(2).TakeWhile(l => l.Count(c => c == '|') == columns).ToList();
        Assert.Equal(3, stepRows.Count);
        Assert.StartsWith("| web-form | 40 | 1 |", stepRows[0], StringComparison.Ordinal);
        Assert.Contains("| `fail_ratio <= 0` |", md, StringComparison.Ordinal);
        Assert.Contains("**FAILED**", md, StringComparison.Ordinal);
        Assert.Contains("commit `abc123`", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_RoundTrips()
    {
        var report = Sample();

        var parsed = JsonReport.Parse(JsonReport.Render(report))!;

        var step = parsed.Scenarios[0].Steps[0];
        Assert.Equal(40, step.Ok);
        Assert.Equal(1, step.Failed);
        Assert.Equal(report.Scenarios[0].Steps[0].Latency, step.Latency);
        Assert.Equal(1, step.StatusCodes["503"]);
        Assert.Equal(25, parsed.Scenarios[0].Gateway!.Attempts["worker-1"]);
        Assert.Equal(report.Scenarios[0].Steps[0].Timeline.Count, step.Timeline.Count);
        Assert.False(parsed.Scenarios[0].Thresholds[0].Passed);
        Assert.Contains("\"p99_ms\"", JsonReport.Render(report), StringComparison.Ordinal);
    }

    [Fact]
    public void Html_SelfContainedWithLatencyOverTimeCharts()
    {
        var html = HtmlReport.Render(Sample());

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("A &lt;mix&gt; &amp; more", html, StringComparison.Ordinal);
        // Two charts (latency, throughput) for each step and the total.
        Assert.Equal(6, Regex.Matches(html, "<svg ").Count);
        var latencyChart = Regex.Match(html, "<svg [^>]*aria-label=\"latency of ok requests \\(ms\\)\".*?</svg>").Value;
        Assert.Equal(4, Regex.Matches(latencyChart, "<polyline ").Count);
        var points = Regex.Match(latencyChart, "points=\"([^\"]+)\"").Groups[1].Value.Split(' ');
        Assert.Equal(5, points.Length);
    }

    [Fact]
    public void Write_ThreeFiles()
    {
        var folder = Directory.CreateTempSubdirectory("ecg2af-report-test-").FullName;
        try
        {
            var files = ReportFiles.Write(Sample(), folder);

            Assert.Equal(["report.md", "report.json", "report.html"], files.Select(Path.GetFileName));
            Assert.All(files, f => Assert.True(new FileInfo(f).Length > 500));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
