using System.Data.Common;
using System.Text.Json;

namespace Ecg2Af.Audit;

/// <summary>The column list both stores share, and the mapping between a record and a row.</summary>
internal static class AuditRows
{
    public const string Table = "audit_records";

    /// <summary>Columns in insert and select order (after the store's own sequence column).</summary>
    public static readonly string[] Columns =
    [
        "request_id", "time_utc", "operation", "client_ip", "name", "email", "files", "format", "model_name",
        "model_version", "model_sha256", "execution_provider", "result", "error", "status_code", "latency_ms", "worker",
        "key_id",
    ];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string SelectList => string.Join(", ", Columns);

    /// <summary><c>INSERT INTO audit_records (...) VALUES (@p0, ...)</c>, with a per-column cast hook for typed columns.</summary>
    public static string InsertSql(Func<string, string, string>? cast = null) =>
        $"INSERT INTO {Table} ({SelectList}) VALUES ({string.Join(", ", Columns.Select((c, i) => cast?.Invoke(c, $"@p{i}") ?? $"@p{i}"))})";

    public static void Bind(DbCommand command, AuditRecord record, object time)
    {
        object?[] values =
        [
            record.RequestId, time, record.Operation, record.ClientIp, record.Name, record.Email,
            JsonSerializer.Serialize(record.Files, Json), record.Format, record.ModelName, record.ModelVersion,
            record.ModelSha256, record.ExecutionProvider, record.Result, record.Error, record.StatusCode,
            record.LatencyMs, record.Worker, record.KeyId,
        ];
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = $"@p{i}";
            parameter.Value = values[i] ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
    }

    public static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    /// <summary>Reads the current row (selected with <see cref="SelectList"/>), the time column read by <paramref name="time"/>.</summary>
    public static AuditRecord Read(DbDataReader row, Func<DbDataReader, int, DateTimeOffset> time) => new()
    {
        RequestId = row.GetString(0),
        Time = time(row, 1),
        Operation = row.GetString(2),
        ClientIp = Text(row, 3),
        Name = Text(row, 4),
        Email = Text(row, 5),
        Files = JsonSerializer.Deserialize<List<AuditFile>>(row.GetString(6), Json) ?? [],
        Format = Text(row, 7),
        ModelName = Text(row, 8),
        ModelVersion = Text(row, 9),
        ModelSha256 = Text(row, 10),
        ExecutionProvider = Text(row, 11),
        Result = Text(row, 12),
        Error = Text(row, 13),
        StatusCode = Convert.ToInt32(row.GetValue(14), System.Globalization.CultureInfo.InvariantCulture),
        LatencyMs = row.GetDouble(15),
        Worker = Text(row, 16),
        KeyId = Text(row, 17),
    };

    private static string? Text(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);
}
