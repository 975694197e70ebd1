using System.Diagnostics;
using Prometheus;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// Audit metrics and spans. Labels and tags carry the store kind, the outcome and the request id only, never the
/// submitter's name or email.
/// </summary>
internal sealed class AuditTelemetry
{
    public const string SourceName = "Ecg2Af.Audit";

    private static readonly ActivitySource Source = new(SourceName);

    private static readonly Counter Writes = Metrics.CreateCounter(
        "ecg2af_audit_writes_total", "Audit records the worker tried to commit, by store and outcome (committed, failed).",
        new CounterConfiguration { LabelNames = ["store", "outcome"] });

    private static readonly Histogram WriteSeconds = Metrics.CreateHistogram(
        "ecg2af_audit_write_seconds", "Time to commit one audit record.",
        new HistogramConfiguration { LabelNames = ["store"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    private static readonly Counter Deleted = Metrics.CreateCounter(
        "ecg2af_audit_records_deleted_total", "Audit records deleted, by store and reason (retention, erasure).",
        new CounterConfiguration { LabelNames = ["store", "reason"] });

    public static void RecordsDeleted(string store, string reason, int count) => Deleted.WithLabels(store, reason).Inc(count);

    public static Activity? StartWrite(string store, string requestId)
    {
        var activity = Source.StartActivity("audit.write");
        activity?.SetTag("ecg2af.audit.store", store);
        activity?.SetTag("ecg2af.request_id", requestId);
        return activity;
    }

    public static void Committed(string store, TimeSpan elapsed)
    {
        Writes.WithLabels(store, "committed").Inc();
        WriteSeconds.WithLabels(store).Observe(elapsed.TotalSeconds);
    }

    public static void Failed(string store) => Writes.WithLabels(store, "failed").Inc();
}
