using Ecg2Af.Inference.Batch;
using Microsoft.Extensions.FileSystemGlobbing;

namespace Ecg2Af.Cli.Predict;

/// <summary>
/// The files named on the command line: files, folders (every file below, in name order), glob patterns
/// (<c>data/**/*.hea</c>, matched from the pattern's fixed leading folders) and zips (each entry a file of the batch).
/// Files are named by their path relative to the current folder (absolute when outside it); zip entries by the zip's
/// name, <c>/</c> and their path inside. A file named twice counts once.
/// </summary>
internal sealed class PredictInputs : IDisposable
{
    private readonly List<BatchArchive> _archives = [];

    public List<BatchFile> Files { get; } = [];

    /// <summary>Paths that matched nothing.</summary>
    public List<string> Missing { get; } = [];

    public static PredictInputs Expand(IEnumerable<string> arguments, BatchLimits limits)
    {
        var inputs = new PredictInputs();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var argument in arguments)
            {
                var paths = Resolve(argument);
                if (paths.Count == 0)
                {
                    inputs.Missing.Add(argument);
                }

                foreach (var path in paths.Where(seen.Add))
                {
                    inputs.Add(path, limits);
                }
            }

            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var archive in _archives)
        {
            archive.Dispose();
        }
    }

    /// <summary>A path as output names it: relative to the current folder when below it, with <c>/</c>.</summary>
    public static string DisplayName(string fullPath)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, fullPath);
        var name = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? fullPath : relative;
        return name.Replace('\\', '/');
    }

    private static List<string> Resolve(string argument)
    {
        if (File.Exists(argument))
        {
            return [Path.GetFullPath(argument)];
        }

        if (Directory.Exists(argument))
        {
            return Directory.EnumerateFiles(argument, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                .Select(Path.GetFullPath)
                .Where(p => !Path.GetFileName(p).StartsWith('.'))
                .Order(StringComparer.Ordinal)
                .ToList();
        }

        if (argument.IndexOfAny(['*', '?', '[']) < 0)
        {
            return [];
        }

        // The fixed leading folders are the root; the rest is the pattern.
        var parts = argument.Replace('\\', '/').Split('/');
        var fixedCount = parts.TakeWhile(p => p.IndexOfAny(['*', '?', '[']) < 0).Count();
        var root = string.Join('/', parts.Take(fixedCount));
        root = root.Length == 0 ? (argument.StartsWith('/') ? "/" : ".") : root;
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(string.Join('/', parts.Skip(fixedCount)));
        return matcher.GetResultsInFullPath(root).Order(StringComparer.Ordinal).ToList();
    }

    private void Add(string path, BatchLimits limits)
    {
        var name = DisplayName(path);
        var head = new byte[4];
        using (var probe = File.OpenRead(path))
        {
            _ = probe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        if (BatchArchive.LooksLikeZip(head)
            && BatchArchive.TryOpen(File.OpenRead(path), name + "/", limits, Files.Count, 0) is { } zip)
        {
            _archives.Add(zip.Archive);
            Files.AddRange(zip.Files);
            return;
        }

        Files.Add(DiskBatchFile.Open(path, name));
    }
}
