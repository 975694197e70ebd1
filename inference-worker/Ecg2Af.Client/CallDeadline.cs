using System.Diagnostics;

namespace Ecg2Af.Client;

/// <summary>The deadline of one client call (REST or gRPC), retries and waits included.</summary>
internal static class CallDeadline
{
    /// <summary>A token that the caller's token or <paramref name="deadline"/> cancels; <paramref name="started"/> is when the call began.</summary>
    public static CancellationTokenSource Start(TimeSpan? deadline, CancellationToken cancellationToken, out long started)
    {
        started = Stopwatch.GetTimestamp();
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (deadline is { } total)
        {
            source.CancelAfter(total);
        }

        return source;
    }
}
