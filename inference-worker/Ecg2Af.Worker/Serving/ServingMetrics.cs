using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Prometheus;

namespace Ecg2Af.Worker.Serving;

/// <summary>
/// The worker's inference metrics (prometheus-net, exported on <c>/metrics</c>). Names and labels are listed in
/// docs/serving.md; labels are low-cardinality only (model, version, priority, outcome, execution provider).
/// </summary>
internal sealed class ServingMetrics : ISchedulerEvents
{
    /// <summary>Seconds: 1 ms to 60 s, dense where CPU inference of one ECG (tens to hundreds of ms) lands.</summary>
    private static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64];

    private static readonly Counter Requests = Metrics.CreateCounter(
        "ecg2af_inference_requests_total",
        "Inference requests by model, version, priority lane and outcome (success, queue_full, deadline_exceeded, deadline_unreachable, cancelled, shutting_down, invalid_input, error).",
        new CounterConfiguration { LabelNames = ["model", "version", "priority", "outcome"] });

    private static readonly Histogram QueueDuration = Metrics.CreateHistogram(
        "ecg2af_inference_queue_duration_seconds",
        "Time a request waited in the batcher's queue before its batch started.",
        new HistogramConfiguration { LabelNames = ["model", "version", "priority"], Buckets = DurationBuckets });

    private static readonly Histogram ComputeDuration = Metrics.CreateHistogram(
        "ecg2af_inference_compute_duration_seconds",
        "ONNX Runtime run time of one batch.",
        new HistogramConfiguration { LabelNames = ["model", "version"], Buckets = DurationBuckets });

    private static readonly Histogram RequestDuration = Metrics.CreateHistogram(
        "ecg2af_inference_request_duration_seconds",
        "End-to-end time of a successful inference request inside the worker: body read, parse/preprocess, queue, compute, decode.",
        new HistogramConfiguration { LabelNames = ["model", "version", "endpoint"], Buckets = DurationBuckets });

    private static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "ecg2af_inference_batch_size",
        "Items (ECGs) per ONNX Runtime run; sum/count is the average batch size.",
        new HistogramConfiguration { LabelNames = ["model", "version"], Buckets = BatchBuckets });

    private static readonly Gauge BatchCap = Metrics.CreateGauge(
        "ecg2af_inference_batch_cap",
        "Most items a batch takes now: the adaptive cap (Serving:AdaptiveBatchCap) from the measured compute time per item at each batch size, or Serving:MaxBatchSize.",
        new GaugeConfiguration { LabelNames = ["model", "version"] });

    private static readonly Counter BatchFailures = Metrics.CreateCounter(
        "ecg2af_inference_batch_failures_total",
        "ONNX Runtime runs that failed (every request in the batch got a 500).",
        new CounterConfiguration { LabelNames = ["model", "version"] });

    private static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "ecg2af_inference_queue_depth",
        "Items waiting in the batcher's queue, per priority lane.",
        new GaugeConfiguration { LabelNames = ["priority"] });

    private static readonly Gauge QueueCapacity = Metrics.CreateGauge(
        "ecg2af_inference_queue_capacity",
        "Items each priority lane holds at most (Serving:QueueCapacity); queue_depth / queue_capacity is the lane's fill.",
        new GaugeConfiguration { LabelNames = ["priority"] });

    private static readonly Gauge LoopsBusy = Metrics.CreateGauge(
        "ecg2af_inference_loops_busy", "Inference loops running a batch right now.");

    private static readonly Gauge Loops = Metrics.CreateGauge(
        "ecg2af_inference_loops", "Inference loops (concurrent ONNX Runtime runs) this worker has.");

    private static readonly Gauge Draining = Metrics.CreateGauge(
        "ecg2af_inference_draining", "1 while the worker drains for shutdown (readiness 503, new work refused).");

    private static readonly Gauge ModelInfo = Metrics.CreateGauge(
        "ecg2af_model_info",
        "1 for every model version that serves, labelled with its execution provider, weights kind and platform.",
        new GaugeConfiguration { LabelNames = ["model", "version", "execution_provider", "weights", "platform"] });

    private static readonly Counter ModelLoads = Metrics.CreateCounter(
        "ecg2af_model_loads_total",
        "Model version loads by outcome: loaded (took traffic) or refused (failed its load or checks; never served).",
        new CounterConfiguration { LabelNames = ["model", "outcome"] });

    private static readonly Counter ProviderFallbacks = Metrics.CreateCounter(
        "ecg2af_execution_provider_fallbacks_total",
        "Model versions loaded on the CPU because CUDA was allowed but could not run, by reason (not_in_build, driver_missing, library_missing, version_mismatch, out_of_memory, error).",
        new CounterConfiguration { LabelNames = ["model", "reason"] });

    private static readonly Gauge ModelSessions = Metrics.CreateGauge(
        "ecg2af_model_sessions",
        "ONNX Runtime sessions of each serving model version, by the execution provider each runs on.",
        new GaugeConfiguration { LabelNames = ["model", "version", "execution_provider"] });

    private static readonly Counter Parses = Metrics.CreateCounter(
        "ecg2af_worker_parses_total",
        "Request bodies the worker began to read and parse, by endpoint; a request refused by admission before its body (503) is not counted.",
        new CounterConfiguration { LabelNames = ["endpoint"] });

    public const string Platform = "onnx_onnxv1";

    public ServingMetrics()
    {
        foreach (var priority in Priorities.All)
        {
            QueueDepth.WithLabels(priority.Name()).Set(0);
        }

        LoopsBusy.Set(0);
        Draining.Set(0);
    }

    public static string Label(RequestOutcome outcome) => outcome switch
    {
        RequestOutcome.Success => "success",
        RequestOutcome.QueueFull => "queue_full",
        RequestOutcome.DeadlineExceeded => "deadline_exceeded",
        RequestOutcome.DeadlineUnreachable => "deadline_unreachable",
        RequestOutcome.Cancelled => "cancelled",
        RequestOutcome.ShuttingDown => "shutting_down",
        _ => "error",
    };

    public void RequestFinished(IInferenceTarget target, Priority priority, RequestOutcome outcome, TimeSpan queueTime)
    {
        Requests.WithLabels(target.ModelName, target.ModelVersion, priority.Name(), Label(outcome)).Inc();
        if (outcome == RequestOutcome.Success)
        {
            QueueDuration.WithLabels(target.ModelName, target.ModelVersion, priority.Name()).Observe(queueTime.TotalSeconds);
        }
    }

    public void BatchExecuted(IInferenceTarget target, int batchSize, TimeSpan computeTime, bool succeeded)
    {
        if (!succeeded)
        {
            BatchFailures.WithLabels(target.ModelName, target.ModelVersion).Inc();
            return;
        }

        ComputeDuration.WithLabels(target.ModelName, target.ModelVersion).Observe(computeTime.TotalSeconds);
        BatchSize.WithLabels(target.ModelName, target.ModelVersion).Observe(batchSize);
    }

    public void BatchCapChanged(IInferenceTarget target, int cap) => BatchCap.WithLabels(target.ModelName, target.ModelVersion).Set(cap);

    public void QueueDepthChanged(Priority priority, int items) => QueueDepth.WithLabels(priority.Name()).Set(items);

    public void BusyLoopsChanged(int busy) => LoopsBusy.Set(busy);

    public static void SetLoops(int loops) => Loops.Set(loops);

    public static void SetQueueCapacity(SchedulerOptions options)
    {
        foreach (var priority in Priorities.All)
        {
            QueueCapacity.WithLabels(priority.Name()).Set(options.Capacity(priority));
        }
    }

    public static void SetDraining(bool draining) => Draining.Set(draining ? 1 : 0);

    /// <summary>A request refused before it reached the batcher because its input was unusable.</summary>
    public static void InvalidInput(string model, string version, Priority priority) =>
        Requests.WithLabels(model, version, priority.Name(), "invalid_input").Inc();

    /// <summary>A request body the worker is about to read and parse (admission let it in).</summary>
    public static void Parsed(string endpoint) => Parses.WithLabels(endpoint).Inc();

    public static void Completed(string model, string version, string endpoint, TimeSpan elapsed) =>
        RequestDuration.WithLabels(model, version, endpoint).Observe(elapsed.TotalSeconds);

    public static void VersionLoaded(ServedVersion version)
    {
        ModelLoads.WithLabels(version.ModelName, "loaded").Inc();
        ModelInfo.WithLabels(version.ModelName, version.ModelVersion, version.ExecutionProvider, version.Signature.Provenance.Weights, Platform).Set(1);
        // Published at 0 for every model that loads, so dashboards and the fallback alert see the series on CPU-only
        // deployments too (no data would be indistinguishable from "not scraped").
        foreach (var reason in Inference.Runtime.ProviderFallback.AllLabels)
        {
            ProviderFallbacks.WithLabels(version.ModelName, reason);
        }

        if (version.Fallback is { } fallback)
        {
            ProviderFallbacks.WithLabels(version.ModelName, fallback.Label).Inc();
        }

        foreach (var group in version.SessionProviders.GroupBy(p => p))
        {
            ModelSessions.WithLabels(version.ModelName, version.ModelVersion, group.Key).Set(group.Count());
        }
    }

    public static void VersionRefused(string model) => ModelLoads.WithLabels(model, "refused").Inc();

    public static void VersionRetired(ServedVersion version)
    {
        ModelInfo.RemoveLabelled(version.ModelName, version.ModelVersion, version.ExecutionProvider, version.Signature.Provenance.Weights, Platform);
        BatchCap.RemoveLabelled(version.ModelName, version.ModelVersion);
        foreach (var provider in version.SessionProviders.Distinct())
        {
            ModelSessions.RemoveLabelled(version.ModelName, version.ModelVersion, provider);
        }
    }
}
