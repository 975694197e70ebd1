namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// The browser-facing security headers on every gateway answer (the page, its files and the proxied API), set as the
/// response starts so a worker's copy is replaced, never doubled (docs/security.md):
/// a Content-Security-Policy that allows only the gateway's own script, style, images and API calls (no inline code,
/// no framing: <c>frame-ancestors 'none'</c>; the API reference page has a wider one of its own), <c>X-Content-Type-Options: nosniff</c> and
/// <c>Referrer-Policy: no-referrer</c>.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>
    /// The page's policy: web/index.html, app.js and styles.css load only from this origin and hold no inline script,
    /// style attribute or event handler; the batch CSV download is a blob: link (a navigation, not a fetch).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// The key of <see cref="HttpContext.Items"/> under which a page with a policy of its own (the API reference at
    /// <c>/docs</c>, <see cref="ApiReference"/>) leaves a <c>Func&lt;HttpContext, string&gt;</c> that makes it as the
    /// answer starts; every other answer gets <see cref="ContentSecurityPolicy"/>.
    /// </summary>
    public static readonly object PolicyKey = new();

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var response = context.Response;
            response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = http.Items.TryGetValue(PolicyKey, out var own) && own is Func<HttpContext, string> policy
                    ? policy(http)
                    : ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
        return app;
    }
}
