using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// Delimited text (CSV, TSV, semicolon with decimal comma, whitespace): optional preamble of <c>key: value</c> lines
/// (sample rate, gain, units), optional header row naming the leads, optional units row, then one row per sample
/// (or, transposed, one row per lead). Columns are mapped by lead name; time or index columns are dropped.
/// What the request says (sample rate, units, gain, lead order) overrides what the file says.
/// </summary>
internal static partial class CsvReader
{
    public const string FormatId = "csv";

    private const int SniffLines = 40;

    [GeneratedRegex(@"^\s*([^:=]+?)\s*[:=]\s*(.*?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ColonPair();

    [GeneratedRegex(@"[-+]?\d+(?:[.,]\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex FirstNumber();

    [GeneratedRegex(@"[\(\[]\s*([^\)\]]+?)\s*[\)\]]", RegexOptions.CultureInvariant)]
    private static partial Regex Bracketed();

    private sealed class Metadata
    {
        public double? SampleRateHz { get; set; }

        public double? CountsPerMillivolt { get; set; }

        public string? Units { get; set; }
    }

    /// <summary>True for text that has at least a few lines of numbers with a common delimiter.</summary>
    public static bool LooksLikeText(ReadOnlySpan<byte> content)
    {
        var probe = content[..Math.Min(content.Length, 4096)];
        var utf16 = probe.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]); // little-endian with its BOM, as Excel writes it
        if (probe.IsEmpty || (probe.Contains((byte)0) && !utf16))
        {
            return false;
        }

        // Control characters other than line ends and tabs, counted per character (per code unit in UTF-16).
        var control = 0;
        var step = utf16 ? 2 : 1;
        var start = utf16 ? 2 : 0;
        for (var i = start; i + step <= probe.Length; i += step)
        {
            var b = probe[i];
            if ((!utf16 || probe[i + 1] == 0) && b < 0x20 && b is not ((byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                control++;
            }
        }

        return control * 100 * step < probe.Length;
    }

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        // The text goes into a pooled buffer: a 12-lead CSV is about half a megabyte of characters, which as a string
        // would sit on the large object heap and cost a gen2 collection every few reads.
        var (text, length) = Decode(file.Content.Span);
        try
        {
            return Read(file, options, text, NonEmptyLines(text.AsSpan(0, length)));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(text);
        }
    }

    private static EcgRecording Read(EcgFile file, EcgReadOptions options, char[] text, List<Range> nonEmpty)
    {
        if (nonEmpty.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "The text file is empty.");
        }

        var (delimiter, fields) = SniffDelimiter(text, nonEmpty);
        var decimalComma = delimiter != ',' && UsesDecimalComma(text, nonEmpty);
        var cells = new List<string>();

        // The data block: the first numeric row with the common field count followed by another numeric row.
        var dataStart = -1;
        for (var i = 0; i < nonEmpty.Count; i++)
        {
            if (IsNumericRow(text, nonEmpty[i], delimiter, decimalComma, fields)
                && (i + 1 == nonEmpty.Count || IsNumericRow(text, nonEmpty[i + 1], delimiter, decimalComma, fields)))
            {
                dataStart = i;
                break;
            }
        }

        if (dataStart < 0)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                "The text file is not a recognised ECG format: no block of numeric rows was found. Expected CSV/TSV with one column per lead, a WFDB header, MUSE or HL7 aECG XML.");
        }

        var metadata = new Metadata();
        string[]? header = null;
        string? unitsRow = null;
        for (var i = 0; i < dataStart; i++)
        {
            var row = Fields(text, nonEmpty[i], delimiter, cells).ToArray();
            var isTableRow = row.Length >= Math.Max(2, fields - 1);
            if (isTableRow && header is null && row.Count(c => Leads.Normalize(StripUnits(c)) is not null) >= 2)
            {
                header = row;
            }
            else if (isTableRow && header is not null && row.All(c => c.Length == 0 || Units.ToMillivolts(c) is not null || IsTimeName(c)))
            {
                unitsRow = row.FirstOrDefault(c => Units.ToMillivolts(c) is not null);
            }
            else
            {
                ReadPreambleLine(text.AsSpan()[nonEmpty[i]].ToString(), delimiter, metadata);
            }
        }

        var builder = new RecordingBuilder(FormatId, 0);
        var dataRows = CollectionsMarshal.AsSpan(nonEmpty)[dataStart..];
        var transposed = fields > 64 && dataRows.Length <= 16;
        var columns = transposed
            ? ReadTransposed(text, dataRows, delimiter, decimalComma, options, builder)
            : ReadColumns(text, dataRows, delimiter, decimalComma, fields, header, options, builder, metadata);

        var units = options.Units ?? metadata.Units ?? unitsRow ?? HeaderUnits(header);
        var gain = options.CountsPerMillivolt ?? (options.Units is null ? metadata.CountsPerMillivolt : null);
        if (gain is { } g && (!double.IsFinite(g) || g <= 0))
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, "The gain (counts per mV) must be a positive number.");
        }

        double scale;
        if (gain is { } counts)
        {
            scale = 1 / counts;
        }
        else if (units is not null)
        {
            scale = Units.ToMillivolts(units)
                ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"Unknown units '{SafeXml.Clip(units)}'; expected mV, uV or V.");
        }
        else
        {
            scale = GuessScale(columns, builder);
        }

        foreach (var (label, values) in columns)
        {
            if (builder.Resolve(label) is not { } lead)
            {
                continue;
            }

            Units.Scale(values, scale);

            builder.Add(lead, label, values, gain is null ? null : scale);
        }

        if (builder.Count > 0)
        {
            builder.SampleRateHz = SampleRate(options, metadata, columns, builder);
        }

        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    /// <summary>The text in a buffer rented from the shared pool (the caller returns it) and its length.</summary>
    private static (char[] Text, int Length) Decode(ReadOnlySpan<byte> bytes)
    {
        Encoding encoding;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            encoding = Encoding.Unicode;
            bytes = bytes[2..];
        }
        else
        {
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                bytes = bytes[3..];
            }

            // European Excel exports are often Latin-1.
            encoding = Utf8.IsValid(bytes) ? Encoding.UTF8 : Encoding.Latin1;
        }

        var text = ArrayPool<char>.Shared.Rent(Math.Max(encoding.GetMaxCharCount(bytes.Length), 1));
        return (text, encoding.GetChars(bytes, text));
    }

    /// <summary>The lines of <paramref name="text"/> that hold more than white space, as ranges (CR, LF or CR LF end a line).</summary>
    private static List<Range> NonEmptyLines(ReadOnlySpan<char> text)
    {
        var lines = new List<Range>(text.Length / 32);
        var start = 0;
        while (true)
        {
            var end = text[start..].IndexOfAny('\r', '\n');
            end = end < 0 ? text.Length : end + start;
            if (!text[start..end].IsWhiteSpace())
            {
                lines.Add(start..end);
            }

            if (end == text.Length)
            {
                break;
            }

            start = end + (text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? 2 : 1);
        }

        return lines;
    }

    /// <summary>The delimiter that splits the last rows into the same number of fields, the most fields winning.</summary>
    private static (char Delimiter, int Fields) SniffDelimiter(char[] text, List<Range> lines)
    {
        var tail = lines.Skip(Math.Max(0, lines.Count - SniffLines)).ToList();
        var best = (Delimiter: ' ', Fields: 0);
        foreach (var d in (char[])[',', ';', '\t', '|', ' '])
        {
            var counts = tail.Select(r => d == ' ' ? CountWhitespaceFields(text.AsSpan()[r]) : text.AsSpan()[r].Count(d) + 1).ToList();
            var mode = counts.GroupBy(c => c).MaxBy(g => g.Count())!;
            if (mode.Key >= 2 && mode.Count() * 10 >= counts.Count * 9 && mode.Key > best.Fields)
            {
                best = (d, mode.Key);
            }
        }

        if (best.Fields == 0)
        {
            var single = tail.Count(r => Numbers.TryParse(text.AsSpan()[r].Trim(), false, out _));
            throw single * 10 >= tail.Count * 9
                ? new EcgFormatException(EcgErrorKind.Unusable,
                    "The text file holds a single column of numbers: a single-lead recording cannot feed a 12-lead model.")
                : new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                    "The text file is not a recognised ECG format (no consistent delimiter). Expected CSV/TSV with one column per lead, a WFDB header, MUSE or HL7 aECG XML.");
        }

        return best;
    }

    private static int CountWhitespaceFields(ReadOnlySpan<char> line)
    {
        var count = 0;
        var inField = false;
        foreach (var c in line)
        {
            var space = c is ' ' or '\t';
            if (!space && !inField)
            {
                count++;
            }

            inField = !space;
        }

        return count;
    }

    private static bool UsesDecimalComma(char[] text, List<Range> lines) =>
        lines.Skip(Math.Max(0, lines.Count - SniffLines)).Any(r => text.AsSpan()[r].Contains(','));

    private static List<string> Fields(char[] text, Range line, char delimiter, List<string> into)
    {
        into.Clear();
        var span = text.AsSpan()[line];
        if (delimiter == ' ')
        {
            foreach (var r in span.SplitAny(" \t"))
            {
                if (!span[r].IsEmpty)
                {
                    into.Add(span[r].Trim().Trim('"').Trim('\'').ToString());
                }
            }

            return into;
        }

        foreach (var r in span.Split(delimiter))
        {
            into.Add(span[r].Trim().Trim('"').Trim('\'').Trim().ToString());
        }

        return into;
    }

    private static bool IsNumericRow(char[] text, Range line, char delimiter, bool decimalComma, int fields)
    {
        var span = text.AsSpan()[line];
        var count = 0;
        var numbers = 0;
        var others = 0;
        foreach (var r in delimiter == ' ' ? span.SplitAny(" \t") : span.Split(delimiter))
        {
            var cell = span[r].Trim();
            if (delimiter == ' ' && cell.IsEmpty)
            {
                continue;
            }

            count++;
            if (cell.IsEmpty)
            {
                continue;
            }

            if (Numbers.TryParse(cell, decimalComma, out _))
            {
                numbers++;
            }
            else
            {
                others++;
            }
        }

        // A trailing delimiter adds one empty field; a transposed row may start with its lead label.
        return numbers > 0 && others <= 1 && Math.Abs(count - fields) <= 1;
    }

    /// <summary>
    /// Parses one data row into <paramref name="columns"/> at <paramref name="index"/> (empty or non-numeric cells become
    /// NaN); false when the row is not a data row (another field count, or more than one non-numeric cell).
    /// </summary>
    private static bool ParseRow(ReadOnlySpan<char> line, char delimiter, bool decimalComma, int fields, float[][] columns, int index)
    {
        var count = 0;
        var numbers = 0;
        var others = 0;
        while (true)
        {
            ReadOnlySpan<char> cell;
            int end;
            if (delimiter == ' ')
            {
                var start = line.IndexOfAnyExcept(' ', '\t');
                if (start < 0)
                {
                    break;
                }

                line = line[start..];
                end = line.IndexOfAny(' ', '\t');
            }
            else if (Numbers.TryParseCell(line, delimiter, decimalComma, out var quick, out var length))
            {
                // The common cell, a bare number up to the delimiter, without searching, trimming or re-reading it.
                if (count < columns.Length)
                {
                    columns[count][index] = (float)quick;
                    numbers++;
                }

                count++;
                if (length == line.Length)
                {
                    break;
                }

                line = line[(length + 1)..];
                continue;
            }
            else
            {
                end = line.IndexOf(delimiter);
            }

            cell = (end < 0 ? line : line[..end]).Trim().Trim('"');
            if (count < columns.Length)
            {
                if (cell.IsEmpty)
                {
                    columns[count][index] = float.NaN;
                }
                else if (Numbers.TryParse(cell, decimalComma, out var v))
                {
                    columns[count][index] = (float)v;
                    numbers++;
                }
                else
                {
                    columns[count][index] = float.NaN;
                    others++;
                }
            }

            count++;
            if (end < 0)
            {
                break;
            }

            line = line[(end + 1)..];
        }

        for (var c = count; c < columns.Length; c++)
        {
            columns[c][index] = float.NaN;
        }

        return numbers > 0 && others <= 1 && Math.Abs(count - fields) <= 1;
    }

    private static List<(string Label, float[] Values)> ReadColumns(char[] text, ReadOnlySpan<Range> rows, char delimiter, bool decimalComma,
        int fields, string[]? header, EcgReadOptions options, RecordingBuilder builder, Metadata metadata)
    {
        var width = header?.Length ?? fields;
        Limits.CheckSamples((long)rows.Length * width, options, "The CSV file");
        var values = new float[width][];
        for (var c = 0; c < width; c++)
        {
            values[c] = new float[rows.Length];
        }

        // Each row is parsed once, straight into the columns; a row that is not numeric ends the data block.
        var used = 0;
        foreach (var line in rows)
        {
            if (!ParseRow(text.AsSpan()[line], delimiter, decimalComma, fields, values, used))
            {
                builder.Warnings.Add("Text after the numeric rows was ignored.");
                break;
            }

            used++;
        }

        var names = header;
        if (names is null)
        {
            var order = options.LeadOrder ?? throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
                $"The CSV file has no header row naming its {width} columns; give the lead order in the request (for example I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5, V6)."));
            var skip = order.Count == width - 1 && IsIncreasing(values[0].AsSpan(0, used)) ? 1 : 0;
            if (order.Count + skip != width && order.Count + skip != width - 1)
            {
                throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
                    $"The request names {order.Count} leads but the CSV file has {width} columns."));
            }

            names = new string[width];
            for (var c = 0; c < width; c++)
            {
                names[c] = c < skip ? "time" : c - skip < order.Count ? order[c - skip] : "";
            }
        }

        var columns = new List<(string, float[])>();
        for (var c = 0; c < width; c++)
        {
            var name = names[c];
            var column = used == values[c].Length ? values[c] : values[c][..used];
            if (IsTimeName(name))
            {
                // A preamble rate wins over the rate implied by a time column.
                metadata.SampleRateHz ??= TimeColumnRate(name, column);
                continue;
            }

            if (column.All(float.IsNaN))
            {
                if (Leads.Normalize(StripUnits(name)) is { } lead)
                {
                    builder.Warnings.Add($"The CSV column for lead {lead} is empty; the lead is treated as missing.");
                    builder.Flags.Add($"empty_column:{lead}");
                }

                continue;
            }

            columns.Add((StripUnits(name), column));
        }

        return columns;
    }

    private static List<(string Label, float[] Values)> ReadTransposed(char[] text, ReadOnlySpan<Range> rows, char delimiter, bool decimalComma,
        EcgReadOptions options, RecordingBuilder builder)
    {
        var cells = new List<string>();
        var columns = new List<(string, float[])>();
        var index = 0;
        foreach (var line in rows)
        {
            var row = Fields(text, line, delimiter, cells);
            if (row.Count == 0)
            {
                continue;
            }

            var labelled = !Numbers.TryParse(row[0], decimalComma, out _) && row[0].Length > 0;
            string label;
            if (labelled)
            {
                label = row[0];
            }
            else if (options.LeadOrder is { } order && index < order.Count)
            {
                label = order[index];
            }
            else
            {
                throw new EcgFormatException(EcgErrorKind.Unusable,
                    "The CSV file has one row per lead but does not name the rows; give the lead order in the request.");
            }

            Limits.CheckSamples((long)row.Count * (index + 1), options, "The CSV file");
            var values = row.Skip(labelled ? 1 : 0).Select(c => Numbers.TryParse(c, decimalComma, out var v) ? (float)v : float.NaN).ToArray();
            index++;
            if (values.All(float.IsNaN))
            {
                builder.Warnings.Add($"The CSV row for '{label}' is empty; the lead is treated as missing.");
                continue;
            }

            columns.Add((label, values));
        }

        builder.Warnings.Add("The CSV file holds one row per lead (transposed).");
        return columns;
    }

    private static void ReadPreambleLine(string line, char delimiter, Metadata metadata)
    {
        var pair = ColonPair().Match(line);
        string key, value;
        if (pair.Success)
        {
            (key, value) = (pair.Groups[1].Value, pair.Groups[2].Value);
        }
        else
        {
            var parts = line.Split(delimiter == ' ' ? '\t' : delimiter, 2);
            if (parts.Length < 2)
            {
                return;
            }

            (key, value) = (parts[0], parts[1]);
        }

        key = key.Trim().Trim('"').ToUpperInvariant();
        value = value.Trim().Trim('"', delimiter).Trim();
        var number = FirstNumber().Match(value);
        var amount = number.Success && double.TryParse(number.Value.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : (double?)null;
        if ((key.Contains("RATE", StringComparison.Ordinal) || key.Contains("FREQ", StringComparison.Ordinal) || key is "FS" || key.Contains("HZ", StringComparison.Ordinal))
            && amount is > 0)
        {
            metadata.SampleRateHz ??= amount;
        }
        else if (key.Contains("GAIN", StringComparison.Ordinal) && amount is > 0)
        {
            metadata.CountsPerMillivolt ??= amount;
        }
        else if (key.StartsWith("UNIT", StringComparison.Ordinal) && Units.ToMillivolts(value) is not null)
        {
            metadata.Units ??= value;
        }
    }

    private static string StripUnits(string name) => Bracketed().Replace(name, "").Trim();

    private static string? HeaderUnits(string[]? header) =>
        header?.Select(h => Bracketed().Match(h)).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .FirstOrDefault(u => Units.ToMillivolts(u) is not null);

    private static bool IsTimeName(string name)
    {
        var n = StripUnits(name).Trim().ToUpperInvariant();
        return n is "T" or "S" or "MS" or "SEC" or "SECS" or "SECONDS" or "INDEX" or "IDX" or "SAMPLE" or "SAMPLE #" or "SAMPLE#" or "SAMPLES" or "TIMESTAMP"
            || n.StartsWith("TIME", StringComparison.Ordinal) || n.StartsWith("ELAPSED", StringComparison.Ordinal);
    }

    /// <summary>Sample rate implied by a time column in seconds (or milliseconds when its name says so); null for an index.</summary>
    private static double? TimeColumnRate(string name, float[] values)
    {
        var upper = name.ToUpperInvariant();
        if (values.Length < 2 || upper.Contains("SAMPLE", StringComparison.Ordinal) || upper.Contains("INDEX", StringComparison.Ordinal)
            || upper.Contains("IDX", StringComparison.Ordinal) || !IsIncreasing(values))
        {
            return null;
        }

        var span = (double)values[^1] - values[0];
        var milliseconds = upper.Contains("MS", StringComparison.Ordinal) || upper.Contains("MILLI", StringComparison.Ordinal);
        var fs = (values.Length - 1) / (span / (milliseconds ? 1000 : 1));
        return fs is >= 50 and <= 20_000 ? Math.Round(fs, 3) : null;
    }

    private static bool IsIncreasing(ReadOnlySpan<float> values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            if (!(values[i] > values[i - 1]))
            {
                return false;
            }
        }

        return values.Length > 1;
    }

    /// <summary>
    /// No units anywhere: values whose median lead swing is above 20 are taken as µV (or counts), otherwise as mV,
    /// and the guess is reported.
    /// </summary>
    private static double GuessScale(List<(string Label, float[] Values)> columns, RecordingBuilder builder)
    {
        var swings = columns.Where(c => Leads.Normalize(c.Label) is not null)
            .Select(c => c.Values.Where(float.IsFinite).DefaultIfEmpty(0).Max() - c.Values.Where(float.IsFinite).DefaultIfEmpty(0).Min())
            .Order().ToList();
        var median = swings.Count == 0 ? 0 : swings[swings.Count / 2];
        if (median > 20)
        {
            builder.Warnings.Add("The CSV file states no units; its values are large, so microvolts were assumed. Give the units or gain in the request if this is wrong.");
            builder.Flags.Add("units_assumed:uV");
            return 1e-3;
        }

        builder.Warnings.Add("The CSV file states no units; millivolts were assumed. Give the units or gain in the request if this is wrong.");
        builder.Flags.Add("units_assumed:mV");
        return 1;
    }

    private static double SampleRate(EcgReadOptions options, Metadata metadata, List<(string Label, float[] Values)> columns, RecordingBuilder builder)
    {
        if ((options.SampleRateHz ?? metadata.SampleRateHz) is { } fs)
        {
            return fs;
        }

        return SampleRates.Resolve(null, columns.Count == 0 ? 0 : columns[0].Values.Length, builder, "The CSV file");
    }

}
