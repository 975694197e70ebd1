namespace Ecg2Af.LoadTests.Reporting;

/// <summary>Writes report.md, report.json and report.html into a folder.</summary>
public static class ReportFiles
{
    public static IReadOnlyList<string> Write(RunReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new (string Name, string Text)[]
        {
            ("report.md", MarkdownReport.Render(report)),
            ("report.json", JsonReport.Render(report)),
            ("report.html", HtmlReport.Render(report)),
        };
        var paths = new List<string>();
        foreach (var (name, text) in files)
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, text);
            paths.Add(path);
        }

        return paths;
    }
}
