using System.Text;

namespace Ecg2Af.Serving.Benchmarks;

/// <summary>A benchmark report: each line is printed as it is written, and the whole is saved as Markdown at the end.</summary>
internal sealed class MarkdownReport
{
    private readonly StringBuilder _text = new();

    public void Line(string text)
    {
        Console.WriteLine(text);
        _text.AppendLine(text);
    }

    /// <summary>Writes the report to <paramref name="path"/> (creating its folder); nothing when no path was given.</summary>
    public async Task SaveAsync(string? path)
    {
        if (path is null)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, _text.ToString());
        Console.WriteLine($"Report written to {path}");
    }
}
