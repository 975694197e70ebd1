using Ecg2Af.Audit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Audit;

internal static class AuditExtensions
{
    /// <summary>The audit store (PostgreSQL when a connection string is set, else the shared SQLite file) and options.</summary>
    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>()
            .BindConfiguration(AuditOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IAuditStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AuditOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuditExtensions));
            if (options.UsesPostgres)
            {
                logger.AuditStore("postgres", "Audit:PostgresConnectionString");
                return new PostgresAuditStore(options.PostgresConnectionString!);
            }

            var sqlite = new SqliteAuditStore(options.SqlitePath, options.BusyTimeout);
            logger.AuditStore("sqlite", sqlite.Path);
            return sqlite;
        });
        builder.Services.AddSingleton(sp => new ClientAddress(sp.GetRequiredService<IOptions<AuditOptions>>().Value.TrustedProxies));
        builder.Services.AddSingleton<AuditWriter>();
        builder.Services.AddSingleton<PredictionAuditFilter>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<AuditRetention>();
        return builder;
    }

    /// <summary>Commits one audit record (operation <paramref name="operation"/>) per request to this endpoint before its response is sent.</summary>
    public static RouteHandlerBuilder WithAudit(this RouteHandlerBuilder endpoint, string operation = PredictionAuditFilter.Operation) =>
        endpoint.AddEndpointFilter((context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<PredictionAuditFilter>().InvokeAsync(context, next, operation));
}
