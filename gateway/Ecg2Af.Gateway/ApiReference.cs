using Ecg2Af.Gateway.Protection;
using Scalar.AspNetCore;

namespace Ecg2Af.Gateway;

/// <summary>
/// The API reference page at <c>/docs</c>: Scalar (Scalar.AspNetCore) reading the workers' OpenAPI document at
/// <c>/openapi/v1.json</c> (proxied like the API). Scalar's JavaScript is served by the gateway itself from the
/// package (<c>/docs/scalar.js</c>), and everything that would reach a third party is off (web fonts, telemetry, the
/// AI agent, MCP, a request proxy), so the page works offline and sends nothing elsewhere.
/// </summary>
internal static class ApiReference
{
    public const string Path = "/docs";

    /// <summary>Where the page reads the document: the workers' document, proxied by the gateway.</summary>
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>
    /// The page's policy: scripts from this origin plus the page's inline bootstrap, both carrying the per-answer
    /// nonce Scalar writes; <c>'unsafe-eval'</c>, because Scalar's bundle compiles code at run time (the browser test
    /// sees it refused otherwise), which lets no script in from anywhere else; the styles Scalar injects at run time
    /// (<c>'unsafe-inline'</c> for styles only); fetches to this origin only (the document, and the requests sent from
    /// the page's test client). The web form keeps its strict policy (<see cref="SecurityHeaders.ContentSecurityPolicy"/>).
    /// </summary>
    public static string PolicyFor(string? nonce) =>
        $"default-src 'none'; script-src 'self'{(nonce is { Length: > 0 } ? $" 'nonce-{nonce}'" : "")} 'unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Gives the page and its assets their own Content-Security-Policy (<see cref="SecurityHeaders.PolicyKey"/>).</summary>
    public static WebApplication UseApiReference(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), docs => docs.Use((context, next) =>
        {
            // Read as the answer starts, when Scalar has written this answer's nonce.
            context.Items[SecurityHeaders.PolicyKey] = (Func<HttpContext, string>)(http =>
                PolicyFor(http.Items.TryGetValue(ScalarOptions.NonceHttpContextItemKey, out var nonce) ? nonce as string : null));
            return next(context);
        }));
        return app;
    }

    public static WebApplication MapApiReference(this WebApplication app)
    {
        app.MapScalarApiReference(Path, options => options
            .WithTitle("Ecg2Af API reference")
            .WithOpenApiRoutePattern(DocumentPath)
            .WithNonce()
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            // Scalar's own toolbar (links to its hosted services) is for its developers, not this API's readers.
            .HideDeveloperTools());
        return app;
    }
}
