namespace Ecg2Af.Audit;

/// <summary>
/// Where audit records are committed. <see cref="WriteAsync"/> returns only once the record is durable (committed),
/// and throws when it is not; callers must not answer a request whose record failed to commit.
/// </summary>
public interface IAuditStore : IAsyncDisposable
{
    /// <summary>Short store kind for metrics and traces: <c>sqlite</c> or <c>postgres</c>.</summary>
    string Kind { get; }

    /// <summary>Creates the table and indexes when missing. Called by the first write; safe to call from many processes at once.</summary>
    Task EnsureCreatedAsync(CancellationToken cancellationToken = default);

    /// <summary>Commits one record (creating the schema first when needed).</summary>
    Task WriteAsync(AuditRecord record, CancellationToken cancellationToken = default);

    /// <summary>Records in time order (oldest first) matching the query.</summary>
    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default);

    /// <summary>Deletes the records from before <paramref name="cutoff"/> (retention); returns how many.</summary>
    Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    /// <summary>Deletes every record of one email address (case-insensitive, as queries match); returns how many.</summary>
    Task<int> EraseEmailAsync(string email, CancellationToken cancellationToken = default);
}
