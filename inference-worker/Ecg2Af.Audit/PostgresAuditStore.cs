using Npgsql;

namespace Ecg2Af.Audit;

/// <summary>
/// Audit records in PostgreSQL, for a fleet of workers on several machines. Each insert commits on its own
/// (the server's default synchronous commit makes it durable before <see cref="WriteAsync"/> returns).
/// </summary>
public sealed class PostgresAuditStore : IAuditStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly SchemaGate _schema;

    public PostgresAuditStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _schema = new SchemaGate(CreateAsync);
    }

    public string Kind => "postgres";

    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _schema.EnsureAsync(cancellationToken);

    public async Task WriteAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _schema.EnsureAsync(cancellationToken);
        await using var insert = _dataSource.CreateCommand(
            AuditRows.InsertSql((column, parameter) => column is "files" or "result" or "error" ? $"CAST({parameter} AS jsonb)" : parameter));
        AuditRows.Bind(insert, record, AuditRecord.StoreTime(record.Time));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await _schema.EnsureAsync(cancellationToken);
        await using var select = _dataSource.CreateCommand();
        var where = new List<string>();
        if (query.From is { } from)
        {
            where.Add("time_utc >= @from");
            select.Parameters.AddWithValue("@from", AuditRecord.StoreTime(from));
        }

        if (query.To is { } to)
        {
            where.Add("time_utc < @to");
            select.Parameters.AddWithValue("@to", AuditRecord.StoreTime(to));
        }

        if (query.Email is { } email)
        {
            where.Add("lower(email) = lower(@email)");
            select.Parameters.AddWithValue("@email", email);
        }

        select.Parameters.AddWithValue("@limit", query.Limit);
        // jsonb columns come back as text; the time as a UTC DateTimeOffset.
        var columns = string.Join(", ", AuditRows.Columns.Select(c => c is "files" or "result" or "error" ? $"{c}::text" : c));
        select.CommandText = $"SELECT {columns} FROM {AuditRows.Table}"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY time_utc, seq LIMIT @limit";
        var records = new List<AuditRecord>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(AuditRows.Read(reader, (row, i) => row.GetFieldValue<DateTimeOffset>(i)));
        }

        return records;
    }

    public async Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        await _schema.EnsureAsync(cancellationToken);
        await using var delete = _dataSource.CreateCommand($"DELETE FROM {AuditRows.Table} WHERE time_utc < @cutoff");
        delete.Parameters.AddWithValue("@cutoff", AuditRecord.StoreTime(cutoff));
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> EraseEmailAsync(string email, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        await _schema.EnsureAsync(cancellationToken);
        await using var delete = _dataSource.CreateCommand($"DELETE FROM {AuditRows.Table} WHERE lower(email) = lower(@email)");
        delete.Parameters.AddWithValue("@email", email);
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        _schema.Dispose();
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Workers starting together would race on CREATE TABLE IF NOT EXISTS; an advisory lock serialises them.
        command.CommandText = $"""
            SELECT pg_advisory_xact_lock(hashtext('ecg2af.{AuditRows.Table}'));
            CREATE TABLE IF NOT EXISTS {AuditRows.Table} (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                request_id text NOT NULL UNIQUE,
                time_utc timestamptz NOT NULL,
                operation text NOT NULL,
                client_ip text,
                name text,
                email text,
                files jsonb NOT NULL,
                format text,
                model_name text,
                model_version text,
                model_sha256 text,
                execution_provider text,
                result jsonb,
                error jsonb,
                status_code integer NOT NULL,
                latency_ms double precision NOT NULL,
                worker text,
                key_id text);
            ALTER TABLE {AuditRows.Table} ADD COLUMN IF NOT EXISTS key_id text;
            CREATE INDEX IF NOT EXISTS {AuditRows.Table}_time ON {AuditRows.Table} (time_utc);
            CREATE INDEX IF NOT EXISTS {AuditRows.Table}_email ON {AuditRows.Table} (lower(email));
            """;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
