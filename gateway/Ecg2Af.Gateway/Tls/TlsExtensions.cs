using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.Tls;

/// <summary>
/// HTTPS around the gateway: Kestrel serves it when an endpoint with a certificate is configured (see
/// <see cref="TlsOptions"/>); this adds HSTS on HTTPS responses and, when asked, the HTTP→HTTPS redirect.
/// </summary>
internal static class TlsExtensions
{
    public static WebApplicationBuilder AddTls(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TlsOptions>().BindConfiguration(TlsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TlsOptions>, TlsOptionsValidator>();
        builder.Services.AddSingleton<IConfigureOptions<HstsOptions>, ConfigureHsts>();
        builder.Services.AddSingleton<IConfigureOptions<HttpsRedirectionOptions>, ConfigureRedirect>();
        return builder;
    }

    /// <summary>First in the pipeline, so that every answer (errors included) carries HSTS and no plain-HTTP request reaches the API.</summary>
    public static WebApplication UseTls(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TlsOptions>>().Value;
        if (options.Hsts)
        {
            // The middleware writes the header on HTTPS requests only.
            app.UseHsts();
        }

        if (options.RedirectHttp)
        {
            // gRPC clients do not follow redirects: a 308 would only break a call on the h2c port (Gateway:GrpcPort),
            // so gRPC is left alone; leave GrpcPort unset to serve gRPC over HTTPS only.
            app.UseWhen(context => !IsProbeOrScrape(context.Request.Path) && !Routing.GrpcProtocol.IsGrpc(context.Request),
                branch => branch.UseHttpsRedirection());
        }

        return app;
    }

    private static bool IsProbeOrScrape(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.Ordinal) || path.StartsWithSegments("/metrics", StringComparison.Ordinal);

    /// <summary>Whether the configuration defines an HTTPS endpoint (Kestrel endpoints or the <c>urls</c> setting).</summary>
    internal static bool HasHttpsEndpoint(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]);
        var urls = (configuration["urls"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return endpoints.Concat(urls).Any(u => u is not null && u.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
    }

    private sealed class TlsOptionsValidator(IConfiguration configuration) : IValidateOptions<TlsOptions>
    {
        public ValidateOptionsResult Validate(string? name, TlsOptions options) =>
            options.RedirectHttp && !HasHttpsEndpoint(configuration)
                ? ValidateOptionsResult.Fail(
                    $"{TlsOptions.Section}:RedirectHttp is true but no HTTPS endpoint is configured (set Kestrel:Endpoints:Https:Url to https://… with Kestrel:Endpoints:Https:Certificate).")
                : ValidateOptionsResult.Success;
    }

    private sealed class ConfigureHsts(IOptions<TlsOptions> options) : IConfigureOptions<HstsOptions>
    {
        public void Configure(HstsOptions hsts)
        {
            hsts.MaxAge = options.Value.HstsMaxAge;
            hsts.IncludeSubDomains = options.Value.HstsIncludeSubDomains;
            // The defaults exclude localhost and loopback addresses; a gateway with a configured certificate means it.
            hsts.ExcludedHosts.Clear();
        }
    }

    private sealed class ConfigureRedirect(IOptions<TlsOptions> options) : IConfigureOptions<HttpsRedirectionOptions>
    {
        public void Configure(HttpsRedirectionOptions redirect)
        {
            redirect.RedirectStatusCode = StatusCodes.Status308PermanentRedirect;
            redirect.HttpsPort = options.Value.HttpsPort;
        }
    }
}
