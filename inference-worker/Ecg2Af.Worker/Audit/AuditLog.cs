namespace Ecg2Af.Worker.Audit;

// Messages name the request id, the store and the error kind; never the submitter's name or email.
internal static partial class AuditLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Audit store: {Store} ({Location})")]
    public static partial void AuditStore(this ILogger logger, string store, string location);

    [LoggerMessage(EventId = 701, Level = LogLevel.Error,
        Message = "Audit record {RequestId} was not committed to {Store} ({ErrorType}: {ErrorMessage}); the request is answered 503")]
    public static partial void WriteFailedRejected(this ILogger logger, string requestId, string store, string errorType, string errorMessage);

    [LoggerMessage(EventId = 702, Level = LogLevel.Critical,
        Message = "Audit record {RequestId} was not committed to {Store} ({ErrorType}: {ErrorMessage}); the result was served unaudited (Audit:RequireCommit is false)")]
    public static partial void WriteFailedServed(this ILogger logger, string requestId, string store, string errorType, string errorMessage);

    [LoggerMessage(EventId = 703, Level = LogLevel.Warning, Message = "Audit query failed on {Store} ({ErrorType}: {ErrorMessage})")]
    public static partial void QueryFailed(this ILogger logger, string store, string errorType, string errorMessage);

    [LoggerMessage(EventId = 705, Level = LogLevel.Information, Message = "Audit retention: deleted {Count} records from before {Cutoff:O} on {Store}")]
    public static partial void RetentionDeleted(this ILogger logger, int count, DateTimeOffset cutoff, string store);

    [LoggerMessage(EventId = 706, Level = LogLevel.Warning, Message = "Audit retention failed on {Store} ({ErrorType}: {ErrorMessage}); retrying at the next run")]
    public static partial void RetentionFailed(this ILogger logger, string store, string errorType, string errorMessage);

    [LoggerMessage(EventId = 707, Level = LogLevel.Information, Message = "Audit erasure {RequestId}: deleted {Count} records of one email address on {Store}")]
    public static partial void Erased(this ILogger logger, string requestId, int count, string store);
}
