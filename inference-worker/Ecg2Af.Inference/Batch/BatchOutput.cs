using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ecg2Af.Inference.Batch;

/// <summary>How a batch answer is written.</summary>
public enum BatchFormat
{
    /// <summary>One JSON array of items (<c>application/json</c>), written item by item.</summary>
    Json,

    /// <summary>One JSON item per line (<c>application/x-ndjson</c>; the CLI's JSON Lines).</summary>
    Ndjson,

    /// <summary>A header row, then one row per record (<c>text/csv</c>).</summary>
    Csv,
}

/// <summary>
/// Writes batch items to a stream as they come, flushing after each, so nothing but the current item is held. The
/// same writer serves the worker's response and the CLI's output file.
/// </summary>
public sealed class BatchWriter
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly Stream _stream;
    private readonly BatchFormat _format;
    private bool _started;
    private bool _first = true;

    /// <param name="stream">Where to write.</param>
    /// <param name="format">JSON array, NDJSON or CSV.</param>
    /// <param name="header">CSV: write the header row first (false when appending to an existing file).</param>
    public BatchWriter(Stream stream, BatchFormat format, bool header = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _format = format;
        _started = !header && format == BatchFormat.Csv;
    }

    public static string ContentType(BatchFormat format) => format switch
    {
        BatchFormat.Csv => "text/csv; charset=utf-8",
        BatchFormat.Ndjson => "application/x-ndjson; charset=utf-8",
        _ => "application/json; charset=utf-8",
    };

    /// <summary>Writes what comes before the first item (the array's bracket, the CSV header) and flushes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var opening = _format switch
        {
            BatchFormat.Json => "["u8.ToArray(),
            BatchFormat.Csv => Encoding.UTF8.GetBytes(BatchCsv.Header + "\r\n"),
            _ => [],
        };
        await _stream.WriteAsync(opening, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    public async Task WriteAsync(BatchItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        await StartAsync(cancellationToken);
        switch (_format)
        {
            case BatchFormat.Csv:
                await _stream.WriteAsync(Encoding.UTF8.GetBytes(BatchCsv.Row(item) + "\r\n"), cancellationToken);
                break;
            case BatchFormat.Ndjson:
                await _stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(item, BatchJson.Options), cancellationToken);
                await _stream.WriteAsync(NewLine, cancellationToken);
                break;
            default:
                await _stream.WriteAsync(_first ? "\n"u8.ToArray() : ",\n"u8.ToArray(), cancellationToken);
                await _stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(item, BatchJson.Options), cancellationToken);
                break;
        }

        _first = false;
        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>Writes what follows the last item (the array's closing bracket) and flushes.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken);
        if (_format == BatchFormat.Json)
        {
            await _stream.WriteAsync("\n]\n"u8.ToArray(), cancellationToken);
        }

        await _stream.FlushAsync(cancellationToken);
    }
}

/// <summary>
/// The CSV form of a batch item (docs/batch.md): one row per record, RFC 4180 quoting, numbers in invariant culture
/// with full precision, lists joined with <c>;</c>, line breaks inside text replaced by spaces (one line per record), and text that a spreadsheet would run as a formula prefixed with
/// <c>'</c>.
/// </summary>
public static class BatchCsv
{
    public static readonly IReadOnlyList<string> Columns =
    [
        "record", "files", "status", "af_risk_5y", "af_in_ecg_probability", "sex_female_probability", "age_years",
        "quality_flags", "format", "files_sha256", "model", "model_version", "weights", "execution_provider", "id", "error",
    ];

    public static string Header { get; } = string.Join(',', Columns);

    public static string Row(BatchItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var p = item.Prediction;
        var r = p?.Result;
        string?[] cells =
        [
            Text(item.Record),
            Text(string.Join(';', item.Files.Select(f => Path.GetFileName(f.Name)))),
            Number(item.Status),
            Number(r?.AfRisk?.Probability),
            Number(r?.AfInEcgProbability),
            Number(r?.Sex?.Female),
            Number(r?.AgeYears),
            Text(r is null ? null : string.Join(';', r.QualityFlags)),
            Text(p?.Input.Format),
            Text(string.Join(';', item.Files.Select(f => f.Sha256 ?? ""))),
            Text(p?.Model.Name),
            Text(p?.Model.Version),
            Text(p?.Model.Weights),
            Text(p?.Model.ExecutionProvider),
            Text(item.Id),
            Text(item.Error is { } e ? $"{e.Title}: {e.Detail}" : null),
        ];
        return string.Join(',', cells);
    }

    /// <summary>Splits one CSV line into its cells (quotes undone); for reading an output file back.</summary>
    public static IReadOnlyList<string> Split(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return cells;
    }

    /// <summary>Undoes the formula guard of <see cref="Row"/> on a text cell read back.</summary>
    public static string Unguard(string cell) =>
        cell.Length > 1 && cell[0] == '\'' && cell[1] is '=' or '+' or '-' or '@' or '\t' or '\r' ? cell[1..] : cell;

    private static string Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(string? value)
    {
        var s = (value ?? "").ReplaceLineEndings(" "); // one record per line, whatever a message holds
        if (s.Length > 0 && s[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            s = "'" + s; // no spreadsheet formulas from file names or messages
        }

        return s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s;
    }
}
