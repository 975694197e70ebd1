using System.Globalization;
using Ecg2Af.Inference.Batch;
using Prometheus;

namespace Ecg2Af.Worker.Predictions;

/// <summary>Batch endpoint metrics (docs/batch.md). Labels are low-cardinality only.</summary>
internal static class BatchMetrics
{
    private static readonly Counter Requests = Metrics.CreateCounter(
        "ecg2af_batch_requests_total",
        "Batch requests by outcome: completed (every record answered), refused (4xx/5xx before any record was scored), client_closed (the client left mid-stream).",
        new CounterConfiguration { LabelNames = ["outcome"] });

    private static readonly Counter Records = Metrics.CreateCounter(
        "ecg2af_batch_records_total",
        "Records answered by batch requests, by the status each record got (200, 400, 413, 415, 422, 499, 500, 503, 504).",
        new CounterConfiguration { LabelNames = ["status"] });

    private static readonly Gauge InProgress = Metrics.CreateGauge(
        "ecg2af_batch_requests_in_progress", "Batch requests being read or scored right now.");

    private static readonly Gauge InFlight = Metrics.CreateGauge(
        "ecg2af_batch_records_in_flight", "Records of batch requests in flight right now (read, preprocessed, queued or waiting to be written); bounded by Batch:Window per request.");

    public static void Register(BatchScorer scorer) =>
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => InFlight.Set(scorer.InFlight));

    public static IDisposable Track() => InProgress.TrackInProgress();

    public static void Request(string outcome) => Requests.WithLabels(outcome).Inc();

    public static void Record(int status) => Records.WithLabels(status.ToString(CultureInfo.InvariantCulture)).Inc();
}
