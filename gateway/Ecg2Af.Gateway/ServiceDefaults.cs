using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Prometheus;

namespace Ecg2Af.Gateway;

/// <summary>What every Ecg2Af service has: ProblemDetails errors, health endpoints, Prometheus metrics.</summary>
internal static class ServiceDefaults
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
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
        app.UseHttpMetrics();
        return app;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready");
        app.MapMetrics("/metrics");
        return app;
    }
}
