using System.Diagnostics;
using Ecg2Af.Gateway.Observability;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace Ecg2Af.Gateway;

/// <summary>
/// What every Ecg2Af service has: ProblemDetails errors, health endpoints, Prometheus metrics (prometheus-net, the
/// only metrics stack) and OpenTelemetry traces (exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
/// </summary>
internal static class ServiceDefaults
{
    /// <summary>The service name in traces unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "ecg2af-gateway";

    /// <summary>Every HTTP request by status code, method and endpoint (the route template, never the raw path).</summary>
    private static readonly Histogram HttpDuration = Metrics.CreateHistogram(
        "http_request_duration_seconds",
        "Duration of HTTP requests the gateway handled (proxied ones include every attempt), by status code, method and endpoint (route template).",
        new HistogramConfiguration { LabelNames = ["code", "method", "endpoint"], Buckets = GatewayMetrics.LatencyBuckets });

    /// <summary>The only meter prometheus-net's meter adapter exports: the .NET runtime's (GC, thread pool, CPU, memory).</summary>
    private const string RuntimeMeter = "System.Runtime";

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        ConfigurePrometheus();
        builder.AddTracing();
        return builder;
    }

    /// <summary>Exceptions become 500 ProblemDetails; bare error statuses (YARP's 502/503/504) get ProblemDetails bodies.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>prometheus-net's HTTP metrics; after routing so that they see the endpoint.</summary>
    public static WebApplication UseHttpMetricsAfterRouting(this WebApplication app)
    {
        app.UseHttpMetrics(o => o.RequestDuration.Histogram = HttpDuration);
        return app;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready");
        app.MapMetrics("/metrics");
        return app;
    }

    /// <summary>
    /// prometheus-net's process metrics (CPU, memory, threads, handles) and the .NET runtime meter (GC, thread pool
    /// queue, lock contention, as <c>system_runtime_dotnet_*</c>); its event-counter adapter, self-diagnostics and
    /// every other meter (for example the QUIC internals) are left out.
    /// Takes effect before the first scrape; later calls (a second host in one test process) change nothing.
    /// </summary>
    private static void ConfigurePrometheus()
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressEventCounters = true, SuppressDebugMetrics = true });
        Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = i => i.Meter.Name == RuntimeMeter);
    }

    /// <summary>
    /// A server span per request (health and metrics left out) and a client span per forwarding attempt; YARP
    /// sends the W3C <c>traceparent</c> of the attempt to the worker, so the worker's spans join the same trace.
    /// </summary>
    private static void AddTracing(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] ?? ServiceName))
            .WithTracing(tracing =>
            {
                tracing.SetSampler(new ParentBasedSampler(new NoParentlessClientSpans()))
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsInfrastructure(context.Request.Path) && !IsWarmUp(context))
                    .AddHttpClientInstrumentation();
                if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
                {
                    tracing.AddOtlpExporter();
                }
            });
    }

    // The gateway's own warm-up requests (to itself, before readiness) are not traffic: no traces for them (nor for
    // their forwards, which then have no parent span).
    private static bool IsWarmUp(HttpContext context)
    {
        if (context.RequestServices.GetService<WarmUp.WarmUpKey>() is not { IsOpen: true } warmUp)
        {
            return false;
        }

        var headers = context.Request.Headers;
        var (presented, key) = Ecg2Af.Security.ApiKeyCredentials.Read(headers.Authorization, headers[Ecg2Af.Security.ApiKeyCredentials.ApiKeyHeader]);
        return presented == Ecg2Af.Security.Presented.Key && warmUp.Find(key, context.Connection.RemoteIpAddress) is not null;
    }

    private static bool IsInfrastructure(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    /// <summary>
    /// Every forward runs inside a request's server span, so an outgoing call without a parent is YARP's active
    /// health probe (every 2 s per worker): not worth a trace of its own.
    /// </summary>
    private sealed class NoParentlessClientSpans : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            new(samplingParameters.Kind == ActivityKind.Client ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
    }
}
