namespace Ecg2Af.Audit;

/// <summary>
/// One audited request (or, for a batch, one ECG of it): who sent what, what the service answered, and how long it
/// took. The only place the submitter's name and email are kept.
/// </summary>
public sealed record AuditRecord
{
    /// <summary>Unique id: the prediction id for a result, a fresh id for a refused request.</summary>
    public required string RequestId { get; init; }

    /// <summary>When the request arrived (UTC, microsecond precision in every store).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>What was asked: <c>predict</c>, <c>predict-batch</c> (one per ECG), <c>infer</c> (OIP) or <c>preprocess</c>.</summary>
    public required string Operation { get; init; }

    /// <summary>The original client's address (the gateway's X-Forwarded-For when it came through a trusted proxy).</summary>
    public string? ClientIp { get; init; }

    public string? Name { get; init; }

    public string? Email { get; init; }

    public IReadOnlyList<AuditFile> Files { get; init; } = [];

    /// <summary>Detected ECG format (null when the files could not be read).</summary>
    public string? Format { get; init; }

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    public string? ModelSha256 { get; init; }

    public string? ExecutionProvider { get; init; }

    /// <summary>Compact JSON summary of the result (risk, AF-in-ECG, sex, age), null when there was none.</summary>
    public string? Result { get; init; }

    /// <summary>Compact JSON of the error returned (title, detail, field errors), null on success.</summary>
    public string? Error { get; init; }

    public required int StatusCode { get; init; }

    public required double LatencyMs { get; init; }

    /// <summary>Which worker answered (its X-Ecg2Af-Worker id).</summary>
    public string? Worker { get; init; }

    /// <summary>The id of the API key that made the request (never the key); null for the web form without a key.</summary>
    public string? KeyId { get; init; }

    /// <summary>Rounds a time to what every store keeps (whole microseconds, UTC), so records read back compare equal.</summary>
    public static DateTimeOffset StoreTime(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);
}

/// <summary>One uploaded file: its name as sent, its size and its SHA-256 (lower-case hex).</summary>
public sealed record AuditFile(string Name, long Size, string Sha256);

/// <summary>Which records to read: a time range (from inclusive, to exclusive), an exact email (case-insensitive), at most <see cref="Limit"/>.</summary>
public sealed record AuditQuery(DateTimeOffset? From = null, DateTimeOffset? To = null, string? Email = null, int Limit = 1000);
