using System.Text.Json;
using System.Text.Json.Serialization;
using Ecg2Af.Inference;
using Ecg2Af.Worker.Audit;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace Ecg2Af.Worker;

/// <summary>
/// What every Ecg2Af service has: ProblemDetails errors, snake_case JSON, health endpoints, Prometheus metrics
/// (prometheus-net, the only metrics stack) and OpenTelemetry traces (exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
/// </summary>
internal static class ServiceDefaults
{
    public const string ReadyTag = "ready";

    /// <summary>The service name in traces unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "ecg2af-inference-worker";

    /// <summary>Seconds, 1 ms to 10 s (then 30 and 60 s for slow uploads): the same buckets as the inference histograms.</summary>
    private static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Every HTTP request by status code, method and endpoint (the route template, never the raw path).</summary>
    private static readonly Histogram HttpDuration = Metrics.CreateHistogram(
        "http_request_duration_seconds",
        "Duration of HTTP requests the worker handled, by status code, method and endpoint (route template).",
        new HistogramConfiguration { LabelNames = ["code", "method", "endpoint"], Buckets = DurationBuckets });

    /// <summary>The only meter prometheus-net's meter adapter exports: the .NET runtime's (GC, thread pool, CPU, memory).</summary>
    private const string RuntimeMeter = "System.Runtime";

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            // Numbers are numbers: no quoted numbers accepted in JSON bodies (so the OpenAPI schemas say "integer", not "integer or string").
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });
        builder.Services.AddHealthChecks();
        ConfigurePrometheus();
        builder.AddTracing();
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Liveness: the process answers. Readiness: every check tagged "ready" (the model) passes; 503 otherwise.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        app.MapMetrics("/metrics");
        return app;
    }

    /// <summary>
    /// Every answer says <c>X-Content-Type-Options: nosniff</c>; exceptions become 500 ProblemDetails (a trace id, never
    /// the exception's text); bare status codes (404, 405, 413) get ProblemDetails bodies.
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHttpMetrics(o => o.RequestDuration.Histogram = HttpDuration);
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
    /// Server spans for every request but health and metrics, the data-path spans (parse, preprocess, queue_wait,
    /// inference, decode) and audit writes. The W3C trace context from the gateway makes them part of its trace.
    /// </summary>
    private static void AddTracing(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(
                configuration["OTEL_SERVICE_NAME"] ?? ServiceName,
                serviceInstanceId: configuration["Worker:InstanceId"] is { Length: > 0 } id ? id : null))
            .WithTracing(tracing =>
            {
                tracing.AddSource(InferenceTelemetry.SourceName, AuditTelemetry.SourceName)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                        !IsInfrastructure(context.Request.Path) && !IsWarmUp(context.Request.Headers[Ecg2Af.Security.ApiKeyCredentials.KeyIdHeader]))
                    .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = request =>
                        !(request.Headers.TryGetValues(Ecg2Af.Security.ApiKeyCredentials.KeyIdHeader, out var ids) && ids.Any(IsWarmUp)));
                if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
                {
                    tracing.AddOtlpExporter();
                }
            });
    }

    // The services' own warm-up requests (before readiness: the worker's to itself, the gateway's through itself) are
    // not traffic: no traces for them.
    private static bool IsWarmUp(string? keyId) => Ecg2Af.Security.WarmUpCallers.IsWarmUp(keyId);

    private static bool IsInfrastructure(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/v2/health");
}
