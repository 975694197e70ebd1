namespace Ecg2Af.LoadTests.Measurement;

/// <summary>
/// What happened to one request. <see cref="Status"/> is the HTTP status code, or 0 when no answer came
/// (<see cref="Error"/> then says why: transport_error or timeout).
/// </summary>
public readonly record struct Outcome(
    bool Ok,
    int Status,
    string? Error,
    long ScheduledTimestamp,
    long SentTimestamp,
    long CompletedTimestamp,
    long BytesSent,
    long BytesReceived,
    string? Worker)
{
    /// <summary>The status-code table's key: the code, or the error kind when there was no answer.</summary>
    public string StatusKey => Status > 0 ? Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : Error ?? "error";
}
