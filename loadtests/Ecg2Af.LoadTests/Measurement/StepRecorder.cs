using System.Collections.Concurrent;
using HdrHistogram;

namespace Ecg2Af.LoadTests.Measurement;

/// <summary>
/// Everything measured for one step of a scenario, recorded from many threads at once without locks: latency from the
/// scheduled send time (the figure that counts; corrected for coordinated omission) and from the actual send (service
/// time), separately for ok and failed requests; counts, dropped and late sends, status codes, answering workers,
/// bytes; and an interval recorder for the latency-over-time chart.
/// </summary>
public sealed class StepRecorder
{
    private readonly LongConcurrentHistogram _ok = Histograms.Concurrent();
    private readonly LongConcurrentHistogram _failed = Histograms.Concurrent();
    private readonly LongConcurrentHistogram _okService = Histograms.Concurrent();
    private readonly Recorder _interval = Histograms.IntervalRecorder();
    private readonly ConcurrentDictionary<string, long> _statuses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _workers = new(StringComparer.Ordinal);
    private readonly List<TimelinePoint> _timeline = [];
    private long _okCount;
    private long _failedCount;
    private long _dropped;
    private long _late;
    private long _bytesSent;
    private long _bytesReceived;
    private long _minOk = long.MaxValue;
    private long _maxOk;
    private long _intervalFailed;
    private long _intervalDropped;
    private long _windowEnd = long.MaxValue;
    private long _okInWindow;
    private long _requestsInWindow;

    private readonly StepRecorder? _total;

    /// <param name="name">The step's name.</param>
    /// <param name="total">The scenario's totals, which every record here also goes to.</param>
    public StepRecorder(string name, StepRecorder? total = null)
    {
        Name = name;
        _total = total;
    }

    public string Name { get; }

    public long OkCount => Interlocked.Read(ref _okCount);

    public long FailedCount => Interlocked.Read(ref _failedCount);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Late => Interlocked.Read(ref _late);

    /// <summary>The ok-latency histogram (µs from the scheduled send time).</summary>
    public HistogramBase OkLatency => _ok;

    public HistogramBase FailedLatency => _failed;

    public HistogramBase OkServiceTime => _okService;

    public IReadOnlyDictionary<string, long> StatusCodes => _statuses;

    public IReadOnlyDictionary<string, long> Workers => _workers;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public long MinOkUs => OkCount == 0 ? 0 : Interlocked.Read(ref _minOk);

    public long MaxOkUs => Interlocked.Read(ref _maxOk);

    public IReadOnlyList<TimelinePoint> Timeline
    {
        get
        {
            lock (_timeline)
            {
                return [.. _timeline];
            }
        }
    }

    public void Record(in Outcome outcome)
    {
        _total?.Record(outcome);
        var latency = Histograms.Microseconds(outcome.CompletedTimestamp - outcome.ScheduledTimestamp);
        _statuses.AddOrUpdate(outcome.StatusKey, 1, (_, n) => n + 1);
        if (outcome.Worker is { Length: > 0 } worker)
        {
            _workers.AddOrUpdate(worker, 1, (_, n) => n + 1);
        }

        var inWindow = outcome.CompletedTimestamp <= Interlocked.Read(ref _windowEnd);
        if (inWindow)
        {
            Interlocked.Increment(ref _requestsInWindow);
            if (outcome.Ok)
            {
                Interlocked.Increment(ref _okInWindow);
            }
        }

        Interlocked.Add(ref _bytesSent, outcome.BytesSent);
        Interlocked.Add(ref _bytesReceived, outcome.BytesReceived);
        if (outcome.Ok)
        {
            _ok.RecordValue(latency);
            _okService.RecordValue(Histograms.Microseconds(outcome.CompletedTimestamp - outcome.SentTimestamp));
            _interval.RecordValue(latency);
            Interlocked.Increment(ref _okCount);
            AtomicMin(ref _minOk, latency);
            AtomicMax(ref _maxOk, latency);
        }
        else
        {
            _failed.RecordValue(latency);
            Interlocked.Increment(ref _failedCount);
            Interlocked.Increment(ref _intervalFailed);
        }
    }

    /// <summary>Ok answers that completed inside the load window (all of them when no window end was set).</summary>
    public long OkInWindow => Interlocked.Read(ref _okInWindow);

    /// <summary>Answers (ok or failed) that completed inside the load window.</summary>
    public long RequestsInWindow => Interlocked.Read(ref _requestsInWindow);

    /// <summary>
    /// Sets the end of the load window (a Stopwatch timestamp): throughput counts what completed before it, as wrk
    /// counts (answers that arrive later still count in the totals and the latencies).
    /// </summary>
    public void SetWindowEnd(long timestamp)
    {
        _total?.SetWindowEnd(timestamp);
        Interlocked.Exchange(ref _windowEnd, timestamp);
    }

    /// <summary>A scheduled send that never left: the in-flight cap was reached (open model only).</summary>
    public void RecordDropped()
    {
        _total?.RecordDropped();
        Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _intervalDropped);
    }

    /// <summary>A send that left later than the tolerance after its scheduled time (its latency still counts from the schedule).</summary>
    public void RecordLate()
    {
        _total?.RecordLate();
        Interlocked.Increment(ref _late);
    }

    /// <summary>Closes the current interval of the latency-over-time series at <paramref name="elapsed"/> since the run started.</summary>
    public TimelinePoint Sample(TimeSpan elapsed, TimeSpan interval)
    {
        var histogram = _interval.GetIntervalHistogram();
        var failed = Interlocked.Exchange(ref _intervalFailed, 0);
        var dropped = Interlocked.Exchange(ref _intervalDropped, 0);
        var seconds = Math.Max(interval.TotalSeconds, 1e-9);
        var point = histogram.TotalCount == 0
            ? new TimelinePoint(elapsed.TotalSeconds, 0, failed, dropped, 0, 0, 0, 0, 0)
            : new TimelinePoint(
                elapsed.TotalSeconds,
                histogram.TotalCount,
                failed,
                dropped,
                histogram.TotalCount / seconds,
                histogram.GetValueAtPercentile(50) / 1000.0,
                histogram.GetValueAtPercentile(95) / 1000.0,
                histogram.GetValueAtPercentile(99) / 1000.0,
                histogram.GetMaxValue() / 1000.0);
        lock (_timeline)
        {
            _timeline.Add(point);
        }

        return point;
    }

    private static void AtomicMin(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static void AtomicMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

/// <summary>One interval of the latency-over-time series: the time at its end (s since start), counts and ok latencies (ms).</summary>
public sealed record TimelinePoint(
    double AtSeconds, long Ok, long Failed, long Dropped, double OkPerSecond, double P50Ms, double P95Ms, double P99Ms, double MaxMs);
