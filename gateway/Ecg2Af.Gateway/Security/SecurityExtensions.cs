using Ecg2Af.Security;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Ecg2Af.Gateway.Security;

internal static class SecurityExtensions
{
    /// <summary><c>Security:ApiKeys</c> bound and validated at start-up, and the key ring built from it.</summary>
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new ApiKeyRing(sp.GetRequiredService<IOptions<ApiKeyOptions>>().Value));
        return builder;
    }

    /// <summary>After the client address and routing, before the rate limiter (which partitions on the key).</summary>
    public static WebApplication UseApiKeys(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ApiKeyRing>().Count == 0)
        {
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecurityExtensions)).NoKeysConfigured();
        }

        app.UseMiddleware<ApiKeyMiddleware>();
        return app;
    }

    /// <summary>
    /// What the worker gets: the verified key id in <c>X-Ecg2Af-Key-Id</c>; never a client's own copy of that
    /// header, nor the key itself (Authorization and X-Api-Key stay at the edge).
    /// </summary>
    public static void ForwardIdentity(TransformBuilderContext context) =>
        context.AddRequestTransform(transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            headers.Remove(ApiKeyCredentials.KeyIdHeader);
            headers.Remove(ApiKeyCredentials.AuthorizationHeader);
            headers.Remove(ApiKeyCredentials.ApiKeyHeader);
            if (transform.HttpContext.Features.Get<CallerKey>() is { } caller)
            {
                headers.TryAddWithoutValidation(ApiKeyCredentials.KeyIdHeader, caller.Id);
            }

            return ValueTask.CompletedTask;
        });
}
