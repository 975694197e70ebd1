using Ecg2Af.Audit;
using Ecg2Af.LocalCluster;
using Microsoft.Data.Sqlite;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>
/// The real gateway in front of two real worker processes that share one audit store; the cluster's key
/// (<see cref="LocalCluster.LocalCluster.ApiKey"/>) holds the admin scope for the audit endpoint. Subclasses choose
/// the store and how to take it down.
/// </summary>
public abstract class AuditClusterFixture : IAsyncLifetime
{
    /// <summary>The workers' <c>Audit:RetentionDays</c>; their retention job runs every second.</summary>
    public const int RetentionDays = 365;

    public LocalCluster.LocalCluster Cluster { get; private set; } = null!;

    public abstract string StoreKind { get; }

    /// <summary>The store the workers write, opened from the test process.</summary>
    public abstract IAuditStore OpenStore();

    /// <summary>Makes the store unavailable to the workers until the returned handle is disposed.</summary>
    public abstract Task<IAsyncDisposable> TakeStoreDownAsync();

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string>(await PrepareStoreAsync())
        {
            ["Audit__BusyTimeout"] = "00:00:02",
            ["Audit__WriteTimeout"] = "00:00:10",
            ["Audit__RetentionDays"] = RetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Audit__RetentionInterval"] = "00:00:01",
        };
        Cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions { Workers = 2, WorkerSettings = settings });
    }

    public virtual async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    /// <summary>Creates the store and returns the worker settings that point at it.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> PrepareStoreAsync();
}

/// <summary>Both workers write one SQLite file (WAL), as local workers on one machine do.</summary>
public sealed class SqliteAuditClusterFixture : AuditClusterFixture
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-audit-sqlite-").FullName;

    public string DatabasePath => Path.Combine(_folder, "audit.db");

    public override string StoreKind => "sqlite";

    public override IAuditStore OpenStore() => new SqliteAuditStore(DatabasePath, TimeSpan.FromSeconds(10));

    /// <summary>Holds the database's write lock (BEGIN IMMEDIATE) so no worker can commit.</summary>
    public override async Task<IAsyncDisposable> TakeStoreDownAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        var transaction = connection.BeginTransaction(deferred: false);
        return new Release(async () =>
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    protected override Task<IReadOnlyDictionary<string, string>> PrepareStoreAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["Audit__SqlitePath"] = DatabasePath });
}

/// <summary>Both workers write a real PostgreSQL server on loopback.</summary>
public sealed class PostgresAuditClusterFixture : AuditClusterFixture
{
    private const string Database = "ecg2af_audit";
    private PostgresServer? _server;

    public override string StoreKind => "postgres";

    private PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL is not running.");

    public override IAuditStore OpenStore() => new PostgresAuditStore(Server.ConnectionString(Database));

    /// <summary>Stops the PostgreSQL server; disposing the handle starts it again.</summary>
    public override async Task<IAsyncDisposable> TakeStoreDownAsync()
    {
        await Server.StopAsync();
        return new Release(() => new ValueTask(Server.StartAgainAsync()));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    protected override async Task<IReadOnlyDictionary<string, string>> PrepareStoreAsync()
    {
        _server = await PostgresServer.StartAsync();
        await _server.CreateDatabaseAsync(Database);
        return new Dictionary<string, string> { ["Audit__PostgresConnectionString"] = _server.ConnectionString(Database) };
    }
}

internal sealed class Release(Func<ValueTask> release) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => release();
}
