namespace Ecg2Af.Gateway.Observability;

/// <summary>The gateway's log messages (source-generated). Never a client address, name or e-mail.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Destination {DestinationId} failed {Failed} of {Total} recent attempts; out of rotation for {Reactivation}.")]
    public static partial void DestinationFailing(this ILogger logger, string destinationId, int failed, int total, TimeSpan reactivation);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "Attempt {Attempt} at {DestinationId} failed ({Reason}); retrying on the next-ranked worker.")]
    public static partial void RetryingElsewhere(this ILogger logger, int attempt, string destinationId, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "DNS lookup of {Host} for destination {DestinationId} failed; keeping {Count} last known addresses.")]
    public static partial void DnsLookupFailed(this ILogger logger, Exception exception, string host, string destinationId, int count);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information,
        Message = "Destination {DestinationId} ({Host}) resolves to {Addresses}.")]
    public static partial void DnsResolved(this ILogger logger, string destinationId, string host, string addresses);
}
