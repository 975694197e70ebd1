using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ecg2Af.Audit;

/// <summary>
/// Audit records as RFC 4180 CSV (one header row, then one row per record). Text that a spreadsheet would run as a
/// formula (starting with = + - @, tab or carriage return) is prefixed with an apostrophe, since names and file
/// names come from the public.
/// </summary>
public static class AuditCsv
{
    public const string Header =
        "request_id,time_utc,operation,client_ip,name,email,files,format,model_name,model_version,model_sha256,"
        + "execution_provider,result,error,status_code,latency_ms,worker,key_id";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task WriteAsync(TextWriter writer, IEnumerable<AuditRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        await writer.WriteAsync(Header + "\r\n");
        foreach (var r in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string?[] cells =
            [
                r.RequestId, r.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                r.Operation, r.ClientIp, r.Name, r.Email, JsonSerializer.Serialize(r.Files, Json), r.Format, r.ModelName,
                r.ModelVersion, r.ModelSha256, r.ExecutionProvider, r.Result, r.Error,
                r.StatusCode.ToString(CultureInfo.InvariantCulture), r.LatencyMs.ToString("0.###", CultureInfo.InvariantCulture), r.Worker, r.KeyId,
            ];
            await writer.WriteAsync(string.Join(',', cells.Select(Cell)) + "\r\n");
        }
    }

    /// <summary>One cell: quoted when it holds a comma, quote or line break; defused when it would start a formula.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }

        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return value;
        }

        var quoted = new StringBuilder(value.Length + 8).Append('"');
        foreach (var c in value)
        {
            quoted.Append(c == '"' ? "\"\"" : c.ToString());
        }

        return quoted.Append('"').ToString();
    }
}
