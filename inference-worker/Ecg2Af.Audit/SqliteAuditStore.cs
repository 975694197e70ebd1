using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Ecg2Af.Audit;

/// <summary>
/// Audit records in one SQLite file in WAL mode, so several worker processes on one machine can share it: writers
/// take turns (each waits up to the busy timeout for the lock) and readers never block them. Every insert is its own
/// transaction, committed with <c>synchronous=FULL</c>.
/// </summary>
public sealed class SqliteAuditStore : IAuditStore
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly SchemaGate _schema;

    public SqliteAuditStore(string path, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _busyTimeoutMs = (int)Math.Clamp(busyTimeout.TotalMilliseconds, 1, int.MaxValue);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy database until the command timeout; keep it at the busy timeout.
            DefaultTimeout = (int)Math.Max(1, Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
        _schema = new SchemaGate(CreateAsync);
    }

    public string Kind => "sqlite";

    /// <summary>The database file.</summary>
    public string Path { get; }

    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _schema.EnsureAsync(cancellationToken);

    public async Task WriteAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _schema.EnsureAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.CommandText = AuditRows.InsertSql();
        AuditRows.Bind(insert, record, FormatTime(record.Time));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await _schema.EnsureAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        var where = new List<string>();
        if (query.From is { } from)
        {
            where.Add("time_utc >= @from");
            AuditRows.AddParameter(select, "@from", FormatTime(from));
        }

        if (query.To is { } to)
        {
            where.Add("time_utc < @to");
            AuditRows.AddParameter(select, "@to", FormatTime(to));
        }

        if (query.Email is { } email)
        {
            where.Add("email = @email COLLATE NOCASE");
            AuditRows.AddParameter(select, "@email", email);
        }

        AuditRows.AddParameter(select, "@limit", query.Limit);
        select.CommandText = $"SELECT {AuditRows.SelectList} FROM {AuditRows.Table}"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY time_utc, seq LIMIT @limit";
        var records = new List<AuditRecord>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(AuditRows.Read(reader, (row, i) =>
                DateTimeOffset.ParseExact(row.GetString(i), TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)));
        }

        return records;
    }

    public Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        DeleteAsync("time_utc < @value", FormatTime(cutoff), cancellationToken);

    public Task<int> EraseEmailAsync(string email, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        return DeleteAsync("email = @value COLLATE NOCASE", email, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        using (var connection = new SqliteConnection(_connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        _schema.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<int> DeleteAsync(string condition, string value, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var delete = connection.CreateCommand();
        delete.CommandText = $"DELETE FROM {AuditRows.Table} WHERE {condition}";
        AuditRows.AddParameter(delete, "@value", value);
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string FormatTime(DateTimeOffset time) => AuditRecord.StoreTime(time).ToString(TimeFormat, CultureInfo.InvariantCulture);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragmas = connection.CreateCommand();
            pragmas.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs.ToString(CultureInfo.InvariantCulture)}; PRAGMA synchronous = FULL;";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // WAL is a property of the file: set once, every process then opens it in WAL mode.
        command.CommandText = $"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS {AuditRows.Table} (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                request_id TEXT NOT NULL UNIQUE,
                time_utc TEXT NOT NULL,
                operation TEXT NOT NULL,
                client_ip TEXT,
                name TEXT,
                email TEXT,
                files TEXT NOT NULL,
                format TEXT,
                model_name TEXT,
                model_version TEXT,
                model_sha256 TEXT,
                execution_provider TEXT,
                result TEXT,
                error TEXT,
                status_code INTEGER NOT NULL,
                latency_ms REAL NOT NULL,
                worker TEXT,
                key_id TEXT);
            CREATE INDEX IF NOT EXISTS {AuditRows.Table}_time ON {AuditRows.Table} (time_utc);
            CREATE INDEX IF NOT EXISTS {AuditRows.Table}_email ON {AuditRows.Table} (email COLLATE NOCASE);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        await MigrateAsync(connection, cancellationToken);
    }

    /// <summary>Brings a file created by an older version up to date: key_id (API key id) was added later.</summary>
    private static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var columns = connection.CreateCommand();
        columns.CommandText = $"SELECT count(*) FROM pragma_table_info('{AuditRows.Table}') WHERE name = 'key_id'";
        if (Convert.ToInt64(await columns.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0)
        {
            return;
        }

        await using var alter = connection.CreateCommand();
        alter.CommandText = $"ALTER TABLE {AuditRows.Table} ADD COLUMN key_id TEXT";
        try
        {
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
        {
            // Another worker sharing the file added it first.
        }
    }
}
