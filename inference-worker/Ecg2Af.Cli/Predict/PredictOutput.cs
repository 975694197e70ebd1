using System.Text;
using System.Text.Json;
using Ecg2Af.Inference.Batch;

namespace Ecg2Af.Cli.Predict;

/// <summary>
/// The output of <c>ecg2af predict</c>: CSV or JSON Lines, one row per record, each written and flushed as soon as the
/// record is done, so an interrupted run leaves only whole rows (a torn last line is cut off on resume). On resume the
/// records already in the file are read back and skipped.
/// </summary>
internal sealed class PredictOutput : IAsyncDisposable
{
    private readonly Stream _stream;

    private PredictOutput(Stream stream, BatchWriter writer, string? path)
    {
        _stream = stream;
        Writer = writer;
        Path = path;
    }

    public BatchWriter Writer { get; }

    public string? Path { get; }

    /// <summary>Records already in the file (resume), with the status each got.</summary>
    public Dictionary<string, int> Done { get; } = new(StringComparer.Ordinal);

    public static BatchFormat FormatFor(string? format, string? path) => format?.ToLowerInvariant() switch
    {
        "csv" => BatchFormat.Csv,
        "jsonl" or "ndjson" => BatchFormat.Ndjson,
        _ => path is not null && (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
            ? BatchFormat.Ndjson
            : BatchFormat.Csv,
    };

    /// <summary>Opens standard output, a new file, or (resume) an existing file to append to. Throws <see cref="PredictException"/>.</summary>
    public static PredictOutput Open(string? path, BatchFormat format, bool resume, bool overwrite)
    {
        if (path is null)
        {
            if (resume)
            {
                throw new PredictException("--resume needs --out: the records already done are read from the output file.");
            }

            var stdout = Console.OpenStandardOutput();
            return new PredictOutput(stdout, new BatchWriter(stdout, format), null);
        }

        var exists = File.Exists(path) && new FileInfo(path).Length > 0;
        if (exists && !resume && !overwrite)
        {
            throw new PredictException($"{path} already exists: add --resume to finish it, or --overwrite to start again.");
        }

        if (!exists || overwrite)
        {
            var fresh = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            return new PredictOutput(fresh, new BatchWriter(fresh, format), path);
        }

        var done = ReadDone(path, format);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var output = new PredictOutput(stream, new BatchWriter(stream, format, header: false), path);
        foreach (var (record, status) in done)
        {
            output.Done[record] = status;
        }

        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.FlushAsync();
        if (Path is not null)
        {
            await _stream.DisposeAsync();
        }
    }

    /// <summary>Reads the records of an earlier run; cuts off a torn last line.</summary>
    private static List<(string Record, int Status)> ReadDone(string path, BatchFormat format)
    {
        var bytes = File.ReadAllBytes(path);
        var end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        if (end < bytes.Length)
        {
            using var truncate = new FileStream(path, FileMode.Open, FileAccess.Write);
            truncate.SetLength(end);
        }

        var lines = Encoding.UTF8.GetString(bytes, 0, end).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        var done = new List<(string, int)>();
        if (format == BatchFormat.Csv)
        {
            if (lines.Count == 0 || lines[0] != BatchCsv.Header)
            {
                throw new PredictException($"{path} does not start with the CSV header of ecg2af predict; it cannot be resumed as CSV.");
            }

            foreach (var line in lines.Skip(1))
            {
                var cells = BatchCsv.Split(line);
                done.Add((BatchCsv.Unguard(cells[0]), cells.Count > 2 && int.TryParse(cells[2], out var status) ? status : 0));
            }

            return done;
        }

        foreach (var line in lines)
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                done.Add((json.RootElement.GetProperty("record").GetString()!, json.RootElement.GetProperty("status").GetInt32()));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new PredictException($"{path} holds a line that is not an ecg2af predict JSON line; it cannot be resumed as JSON Lines.");
            }
        }

        return done;
    }
}

/// <summary>A reason the command cannot run (exit code 2), told in plain words.</summary>
internal sealed class PredictException(string message) : Exception(message);
