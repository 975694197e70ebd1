using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>
/// Everything the process emits while it lives: every log entry (message, structured values, scopes, exception),
/// every span of every activity source (names, tags, events, baggage, status) and every metric measurement of every
/// meter (instrument and tags), as text to search.
/// </summary>
public sealed class TelemetryCapture : ILoggerProvider, ISupportExternalScope, IDisposable
{
    private readonly ConcurrentQueue<string> _logs = new();
    private readonly ConcurrentQueue<string> _spans = new();
    private readonly ConcurrentQueue<string> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public TelemetryCapture()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => _spans.Enqueue(Describe(a)),
        };
        ActivitySource.AddActivityListener(_activities);

        _meters = new MeterListener { InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument) };
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Measure(i, v, tags));
        _meters.SetMeasurementEventCallback<float>((i, v, tags, _) => Measure(i, v, tags));
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Measure(i, v, tags));
        _meters.SetMeasurementEventCallback<int>((i, v, tags, _) => Measure(i, v, tags));
        _meters.SetMeasurementEventCallback<short>((i, v, tags, _) => Measure(i, v, tags));
        _meters.SetMeasurementEventCallback<byte>((i, v, tags, _) => Measure(i, v, tags));
        _meters.SetMeasurementEventCallback<decimal>((i, v, tags, _) => Measure(i, v, tags));
        _meters.Start();
    }

    public IReadOnlyCollection<string> Logs => _logs;

    public IReadOnlyCollection<string> Spans => _spans;

    public IReadOnlyCollection<string> Measurements => _measurements;

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Collects observable instruments once more (they report only when asked).</summary>
    public void RecordObservables() => _meters.RecordObservableInstruments();

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    private static string Describe(Activity a)
    {
        var parts = new List<string> { $"{a.Source.Name} {a.OperationName} {a.DisplayName} {a.Status} {a.StatusDescription}" };
        parts.AddRange(a.TagObjects.Select(t => $"{t.Key}={t.Value}"));
        parts.AddRange(a.Baggage.Select(b => $"baggage {b.Key}={b.Value}"));
        foreach (var e in a.Events)
        {
            parts.Add($"event {e.Name}");
            parts.AddRange(e.Tags.Select(t => $"{t.Key}={t.Value}"));
        }

        return string.Join(" | ", parts);
    }

    private void Measure<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var text = $"{instrument.Meter.Name} {instrument.Name} {value}";
        foreach (var tag in tags)
        {
            text += $" {tag.Key}={tag.Value}";
        }

        _measurements.Enqueue(text);
    }

    private sealed class CapturingLogger(TelemetryCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = $"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)}";
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                text += " | " + string.Join(" ", values.Select(v => $"{v.Key}={v.Value}"));
            }

            var scopes = new List<string>();
            capture._scopes.ForEachScope((scope, list) =>
            {
                list.Add($"scope {scope}");
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
                }
            }, scopes);
            if (scopes.Count > 0)
            {
                text += " | " + string.Join(" ", scopes);
            }

            if (exception is not null)
            {
                text += " | " + exception;
            }

            capture._logs.Enqueue(text);
        }
    }
}
