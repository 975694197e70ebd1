using System.Diagnostics;

namespace Ecg2Af.Inference;

/// <summary>
/// Spans of the data path (<see cref="System.Diagnostics.ActivitySource"/> only; the hosts decide whether and where
/// they are exported): <c>parse</c>, <c>preprocess</c> and <c>decode</c> around the scoring pipeline, and
/// <c>queue_wait</c> and <c>inference</c> for each request the batcher serves. Tags carry formats, sizes, model
/// versions and outcomes only: never a file name, a record name or anything the submitter typed.
/// </summary>
public static class InferenceTelemetry
{
    /// <summary>The activity source name to subscribe to (for example with OpenTelemetry's <c>AddSource</c>).</summary>
    public const string SourceName = "Ecg2Af.Inference";

    internal static readonly ActivitySource Source = new(SourceName);

    internal static Activity? Start(string name) => Source.StartActivity(name, ActivityKind.Internal);

    /// <summary>
    /// Records a span that already happened, between two <see cref="Stopwatch"/> timestamps, under
    /// <paramref name="parent"/> (the request's span, which may belong to another thread by now).
    /// </summary>
    internal static Activity? Record(string name, ActivityContext parent, long startTimestamp, long endTimestamp, Clock clock)
    {
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent, startTime: clock.ToUtc(startTimestamp));
        activity?.SetEndTime(clock.ToUtc(endTimestamp).UtcDateTime);
        return activity;
    }

    /// <summary>Marks a span failed with a short, fixed description (never an exception message that could quote input).</summary>
    internal static void Fail(Activity? activity, string description) => activity?.SetStatus(ActivityStatusCode.Error, description);

    /// <summary>Converts <see cref="Stopwatch"/> timestamps to wall-clock times, anchored once.</summary>
    internal readonly struct Clock
    {
        private readonly DateTimeOffset _utc;
        private readonly long _timestamp;

        private Clock(DateTimeOffset utc, long timestamp)
        {
            _utc = utc;
            _timestamp = timestamp;
        }

        public static Clock Now() => new(DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());

        public DateTimeOffset ToUtc(long timestamp) =>
            _utc - TimeSpan.FromSeconds((_timestamp - timestamp) / (double)Stopwatch.Frequency);
    }
}
