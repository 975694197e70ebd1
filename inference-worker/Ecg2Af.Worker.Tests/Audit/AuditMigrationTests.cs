using Ecg2Af.Audit;
using Microsoft.Data.Sqlite;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>An audit file written before API keys existed is brought up to date in place, its records kept.</summary>
public sealed class AuditMigrationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-audit-migration-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Sqlite_FileWithoutKeyIdColumn_MigratedOldRecordsReadNewOnesKeepTheirKeyId()
    {
        var path = Path.Combine(_folder, "audit.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await old.OpenAsync();
            using var create = old.CreateCommand();
            // The schema as the previous release created it (no key_id), with one record.
            create.CommandText = """
                CREATE TABLE audit_records (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL UNIQUE, time_utc TEXT NOT NULL,
                    operation TEXT NOT NULL, client_ip TEXT, name TEXT, email TEXT, files TEXT NOT NULL, format TEXT,
                    model_name TEXT, model_version TEXT, model_sha256 TEXT, execution_provider TEXT, result TEXT, error TEXT,
                    status_code INTEGER NOT NULL, latency_ms REAL NOT NULL, worker TEXT);
                INSERT INTO audit_records (request_id, time_utc, operation, email, files, status_code, latency_ms)
                VALUES ('old-1', '2026-01-02T03:04:05.000000Z', 'predict', 'old@example.org', '[]', 200, 12.5);
                """;
            await create.ExecuteNonQueryAsync();
        }

        await using (var store = new SqliteAuditStore(path, TimeSpan.FromSeconds(5)))
        {
            await store.WriteAsync(new AuditRecord
            {
                RequestId = "new-1",
                Time = DateTimeOffset.UtcNow,
                Operation = "infer",
                KeyId = "lab-pipeline",
                StatusCode = 200,
                LatencyMs = 3,
            });
            var records = await store.QueryAsync(new AuditQuery(Limit: 10));

            Assert.Equal(["old-1", "new-1"], records.Select(r => r.RequestId));
            Assert.Null(records[0].KeyId);
            Assert.Equal("old@example.org", records[0].Email);
            Assert.Equal("lab-pipeline", records[1].KeyId);
        }

        // A second store on the migrated file (another worker starting later) finds nothing left to do.
        await using var again = new SqliteAuditStore(path, TimeSpan.FromSeconds(5));
        Assert.Equal(2, (await again.QueryAsync(new AuditQuery(Limit: 10))).Count);
    }
}
