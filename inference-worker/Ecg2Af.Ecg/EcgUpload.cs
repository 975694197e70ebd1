using Ecg2Af.Ecg.Formats;

namespace Ecg2Af.Ecg;

/// <summary>The files of one record, as found in a batch upload, ready for <see cref="EcgReader.Read(IReadOnlyList{EcgFile}, EcgReadOptions?)"/>.</summary>
/// <param name="Name">Record name: the WFDB record name, else the file path without its extension; unique within one split.</param>
/// <param name="Files">The files of the record (archives already opened).</param>
public sealed record EcgRecordGroup(string Name, IReadOnlyList<EcgFile> Files);

/// <summary>Batch uploads: many files, or a zip of many records, split into one group per record.</summary>
public static class EcgUpload
{
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

    private static List<EcgRecordGroup> Split(List<EcgFile> parts)
    {
        var pool = new List<EcgFile>(parts);
        var groups = new List<(string Name, List<EcgFile> Files)>();
        foreach (var part in parts)
        {
            WfdbHeader? header;
            try
            {
                header = WfdbHeader.TryParse(part.Content.Span);
            }
            catch (EcgFormatException)
            {
                header = null; // a broken header is a record of its own; reading it reports why
            }

            if (header is null || !pool.Remove(part))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(part.FileName) ?? "";
            var names = header.Signals.Select(s => s.FileName).ToHashSet(StringComparer.Ordinal);
            var members = new List<EcgFile> { part };
            foreach (var name in names)
            {
                var match = pool.FirstOrDefault(p => Path.GetFileName(p.FileName) == name && (Path.GetDirectoryName(p.FileName) ?? "") == folder)
                    ?? pool.FirstOrDefault(p => Path.GetFileName(p.FileName) == name);
                if (match is not null)
                {
                    pool.Remove(match);
                    members.Add(match);
                }
            }

            // Annotation and other files of the same record (100.atr, 100.xyz) travel with it.
            foreach (var extra in pool.Where(p => Path.GetFileNameWithoutExtension(p.FileName) == header.RecordName
                && (Path.GetDirectoryName(p.FileName) ?? "") == folder).ToList())
            {
                pool.Remove(extra);
                members.Add(extra);
            }

            groups.Add((Path.Combine(folder, header.RecordName), members));
        }

        foreach (var rest in pool)
        {
            var name = Path.Combine(Path.GetDirectoryName(rest.FileName) ?? "", Path.GetFileNameWithoutExtension(rest.FileName));
            groups.Add((name, [rest]));
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<EcgRecordGroup>(groups.Count);
        foreach (var (name, files) in groups)
        {
            var n = seen[name] = seen.GetValueOrDefault(name) + 1;
            result.Add(new EcgRecordGroup(n == 1 ? name : $"{name}~{n}", files));
        }

        return result;
    }
}
