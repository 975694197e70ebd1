using Ecg2Af.Security;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Security;

internal static class SecurityExtensions
{
    /// <summary><c>Security:ApiKeys</c> (the same list as the gateway's) bound and validated at start-up.</summary>
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new ApiKeyRing(sp.GetRequiredService<IOptions<ApiKeyOptions>>().Value));
        return builder;
    }

    /// <summary>After routing (it reads the endpoint's <see cref="ApiKeyRequirement"/>), before any endpoint runs.</summary>
    public static WebApplication UseCallerIdentity(this WebApplication app)
    {
        app.UseMiddleware<CallerIdentityMiddleware>();
        return app;
    }
}
