using Ecg2Af.Ecg.Formats;

namespace Ecg2Af.Ecg;

/// <summary>The files of one record, as found in a batch upload, ready for <see cref="EcgReader.Read(IReadOnlyList{EcgFile}, EcgReadOptions?)"/>.</summary>
/// <param name="Name">Record name: the WFDB record name, else the file path without its extension; unique within one split.</param>
/// <param name="Files">The files of the record (archives already opened).</param>
public sealed record EcgRecordGroup(string Name, IReadOnlyList<EcgFile> Files);

/// <summary>A file of a batch as grouping sees it: its name in the upload and, for a WFDB header, what it names.</summary>
public sealed record EcgFileEntry(string FileName, WfdbHeaderInfo? Header);

/// <summary>A WFDB header's record name and the signal files it lists.</summary>
public sealed record WfdbHeaderInfo(string RecordName, IReadOnlyList<string> SignalFiles);

/// <summary>One record of a batch: its unique name and the positions of its files in the grouped list.</summary>
public sealed record EcgRecordPlan(string Name, IReadOnlyList<int> Files);

/// <summary>Batch uploads: many files, or a zip of many records, split into one group per record.</summary>
public static class EcgUpload
{
    /// <summary>The largest file that can be a WFDB header.</summary>
    public const int MaxHeaderBytes = 1 << 16;

    /// <summary>
    /// Opens archives and groups the files into records: each WFDB header with the signal files it names (looked up in
    /// its own folder first) and any other file of the same record name; every other file is a record of its own.
    /// Reading a group can still fail (each group is judged by <see cref="EcgReader.Read(IReadOnlyList{EcgFile}, EcgReadOptions?)"/>);
    /// this method fails only for the upload as a whole (too large, a broken archive).
    /// </summary>
    public static IReadOnlyList<EcgRecordGroup> SplitRecords(IReadOnlyList<EcgFile> files, EcgReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Any(f => f is null))
        {
            throw new ArgumentException("The list of files holds a null entry.", nameof(files));
        }

        options ??= EcgReadOptions.Default;
        return EcgReader.Guard(() => Split(Archive.Expand(files, options)));
    }

    /// <summary>
    /// Groups the files of a batch into records as <see cref="SplitRecords"/> does, from each file's name and (for a WFDB
    /// header) its parsed header only, so a caller can group thousands of files without holding their contents. The
    /// records come back in upload order (by the first of their files) with unique names.
    /// </summary>
    /// <param name="files">Each file's name (a path inside the upload) and, when it is a WFDB header, what
    /// <see cref="ReadWfdbHeader"/> found in it.</param>
    public static IReadOnlyList<EcgRecordPlan> GroupRecords(IReadOnlyList<EcgFileEntry> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var groups = Split(files.Select(f => (f.FileName, f.Header)).ToList());
        groups.Sort((a, b) => a.Files.Min().CompareTo(b.Files.Min()));
        return Unique(groups).Select(g => new EcgRecordPlan(g.Name, g.Files)).ToList();
    }

    /// <summary>
    /// What grouping needs from a file: its record name and signal file names when it is a WFDB header, else null.
    /// A header is small (at most 64 KiB); larger content is never a header, so a caller may skip reading it.
    /// </summary>
    public static WfdbHeaderInfo? ReadWfdbHeader(ReadOnlySpan<byte> content)
    {
        try
        {
            return WfdbHeader.TryParse(content) is { } header
                ? new WfdbHeaderInfo(header.RecordName, header.Signals.Select(s => s.FileName).Distinct(StringComparer.Ordinal).ToList())
                : null;
        }
        catch (EcgFormatException)
        {
            return null; // a broken header is a record of its own; reading it reports why
        }
    }

    private static List<EcgRecordGroup> Split(List<EcgFile> parts)
    {
        var groups = Split(parts.Select(p => (p.FileName, ReadWfdbHeader(p.Content.Span))).ToList());
        return Unique(groups).Select(g => new EcgRecordGroup(g.Name, g.Files.Select(i => parts[i]).ToList())).ToList();
    }

    /// <summary>Each WFDB header with the signal files it names and its record's other files; every other file alone.</summary>
    private static List<(string Name, List<int> Files)> Split(List<(string FileName, WfdbHeaderInfo? Header)> parts)
    {
        var pool = Enumerable.Range(0, parts.Count).ToList();
        var groups = new List<(string Name, List<int> Files)>();
        string Folder(int i) => Path.GetDirectoryName(parts[i].FileName) ?? "";
        for (var part = 0; part < parts.Count; part++)
        {
            var header = parts[part].Header;
            if (header is null || !pool.Remove(part))
            {
                continue;
            }

            var folder = Folder(part);
            var members = new List<int> { part };
            foreach (var name in header.SignalFiles)
            {
                var match = pool.Where(p => Path.GetFileName(parts[p].FileName) == name && Folder(p) == folder).Select(p => (int?)p).FirstOrDefault()
                    ?? pool.Where(p => Path.GetFileName(parts[p].FileName) == name).Select(p => (int?)p).FirstOrDefault();
                if (match is { } m)
                {
                    pool.Remove(m);
                    members.Add(m);
                }
            }

            // Annotation and other files of the same record (100.atr, 100.xyz) travel with it.
            foreach (var extra in pool.Where(p => Path.GetFileNameWithoutExtension(parts[p].FileName) == header.RecordName && Folder(p) == folder).ToList())
            {
                pool.Remove(extra);
                members.Add(extra);
            }

            groups.Add((Path.Combine(folder, header.RecordName), members));
        }

        foreach (var rest in pool)
        {
            groups.Add((Path.Combine(Folder(rest), Path.GetFileNameWithoutExtension(parts[rest].FileName)), [rest]));
        }

        return groups;
    }

    /// <summary>Makes record names unique in order: the second <c>a</c> becomes <c>a~2</c>.</summary>
    private static IEnumerable<(string Name, List<int> Files)> Unique(List<(string Name, List<int> Files)> groups)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, files) in groups)
        {
            var n = seen[name] = seen.GetValueOrDefault(name) + 1;
            yield return (n == 1 ? name : $"{name}~{n}", files);
        }
    }
}
