using System.Globalization;
using System.Text;

namespace Ecg2Af.LocalCluster;

/// <summary>
/// Many distinct ECG records made from the shared samples, for batch tests and benchmarks: WFDB records copied under
/// new record names (the header's record name and signal file names rewritten to match) and XML files copied under
/// new file names. Nothing is downloaded or committed; the files live in a folder the caller owns.
/// </summary>
public static class SampleRecords
{
    private static readonly (string Header, string Signal)[] Wfdb =
    [
        ("wfdb/muse-af.hea", "wfdb/muse-af.dat"),
        ("wfdb/muse-sinus.hea", "wfdb/muse-sinus.dat"),
        ("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat"),
        ("wfdb/00001_lr.hea", "wfdb/00001_lr.dat"),
    ];

    private static readonly string[] Single = ["muse-xml/muse-sinus.xml", "hl7-aecg/Example_aECG.xml"];

    /// <summary>
    /// Writes <paramref name="count"/> records named <c>rec00000</c>, <c>rec00001</c>, … into <paramref name="folder"/>
    /// (cycling through 4 WFDB records and 2 XML files) and returns the record names, in order.
    /// </summary>
    public static IReadOnlyList<string> Generate(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var sources = Wfdb.Select(w => (Header: File.ReadAllText(RepositoryLayout.SharedFile(["ecg-samples", .. w.Header.Split('/')]), Encoding.Latin1),
                Signal: File.ReadAllBytes(RepositoryLayout.SharedFile(["ecg-samples", .. w.Signal.Split('/')])), Extension: Path.GetExtension(w.Signal)))
            .ToList();
        var singles = Single.Select(s => (Bytes: File.ReadAllBytes(RepositoryLayout.SharedFile(["ecg-samples", .. s.Split('/')])), Extension: Path.GetExtension(s)))
            .ToList();
        var names = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var name = "rec" + i.ToString("D5", CultureInfo.InvariantCulture);
            names.Add(name);
            var pick = i % (sources.Count + singles.Count);
            if (pick < sources.Count)
            {
                var (header, signal, extension) = sources[pick];
                File.WriteAllText(Path.Combine(folder, name + ".hea"), Rename(header, name + extension, name), Encoding.Latin1);
                File.WriteAllBytes(Path.Combine(folder, name + extension), signal);
            }
            else
            {
                var (bytes, extension) = singles[pick - sources.Count];
                File.WriteAllBytes(Path.Combine(folder, name + extension), bytes);
            }
        }

        return names;
    }

    /// <summary>The header with its record name and every signal line's file name replaced.</summary>
    private static string Rename(string header, string signalFile, string record)
    {
        var lines = header.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var seenRecordLine = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var space = line.IndexOfAny([' ', '\t']);
            lines[i] = (seenRecordLine ? signalFile : record) + (space < 0 ? "" : line[space..]);
            seenRecordLine = true;
        }

        return string.Join('\n', lines);
    }
}
