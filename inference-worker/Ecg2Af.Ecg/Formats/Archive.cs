using System.Globalization;
using System.IO.Compression;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// Upload unpacking: checks the upload size, opens <c>.zip</c> archives and gzip-wrapped files (one level, never
/// nested), and bounds everything they decompress to by <see cref="EcgReadOptions.MaxDecompressedBytes"/>.
/// </summary>
internal static class Archive
{
    public static bool IsZip(ReadOnlySpan<byte> content) =>
        content.Length >= 4 && content[0] == 'P' && content[1] == 'K' && content[2] is 3 or 5 && content[3] is 4 or 6;

    public static bool IsGzip(ReadOnlySpan<byte> content) => content.Length >= 3 && content[0] == 0x1F && content[1] == 0x8B && content[2] == 8;

    public static List<EcgFile> Expand(IReadOnlyList<EcgFile> files, EcgReadOptions options)
    {
        var uploaded = files.Sum(f => (long)f.Content.Length);
        if (uploaded > options.MaxUploadBytes)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The upload is {uploaded} bytes; at most {options.MaxUploadBytes} are accepted."));
        }

        var budget = options.MaxDecompressedBytes;
        var result = new List<EcgFile>();
        foreach (var file in files)
        {
            var span = file.Content.Span;
            if (IsZip(span))
            {
                result.AddRange(Unzip(file, options, ref budget));
            }
            else if (IsGzip(span))
            {
                var name = file.FileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? file.FileName[..^3] : file.FileName;
                using var gzip = new GZipStream(Streams.Open(file.Content), CompressionMode.Decompress);
                var bytes = Streams.ReadBounded(gzip, budget, $"'{file.FileName}'");
                budget -= bytes.Length;
                result.Add(new EcgFile(name, bytes));
            }
            else
            {
                result.Add(file);
            }
        }

        return result;
    }

    private static List<EcgFile> Unzip(EcgFile file, EcgReadOptions options, ref long budget)
    {
        var result = new List<EcgFile>();
        using var zip = new ZipArchive(Streams.Open(file.Content), ZipArchiveMode.Read);
        if (zip.Entries.Count > options.MaxArchiveEntries)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"'{file.FileName}' holds {zip.Entries.Count} entries; at most {options.MaxArchiveEntries} are accepted."));
        }

        foreach (var entry in zip.Entries)
        {
            if (IsJunk(entry.FullName))
            {
                continue;
            }

            // The declared size is checked first, then the real one while inflating (a declared size can lie).
            if (entry.Length > budget)
            {
                throw new EcgFormatException(EcgErrorKind.TooLarge,
                    $"'{file.FileName}' decompresses to more than {options.MaxDecompressedBytes} bytes.");
            }

            using var stream = entry.Open();
            var bytes = Streams.ReadBounded(stream, budget, $"'{file.FileName}'");
            budget -= bytes.Length;
            result.Add(new EcgFile(entry.FullName, bytes));
        }

        if (result.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, $"The zip archive '{file.FileName}' holds no files.");
        }

        return result;
    }

    /// <summary>Directories and the metadata files archivers add (macOS resource forks, Finder and Explorer files).</summary>
    private static bool IsJunk(string path)
    {
        var name = Path.GetFileName(path);
        return name.Length == 0 || name.StartsWith('.') || path.StartsWith("__MACOSX/", StringComparison.Ordinal)
            || name is "Thumbs.db" or "desktop.ini";
    }
}
