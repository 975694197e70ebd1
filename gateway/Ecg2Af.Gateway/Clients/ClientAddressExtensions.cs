namespace Ecg2Af.Gateway.Clients;

internal static class ClientAddressExtensions
{
    /// <summary>Options and the parsed trusted-proxy list (bad entries stop start-up).</summary>
    public static WebApplicationBuilder AddClientAddresses(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClientAddressOptions>()
            .BindConfiguration(ClientAddressOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.TrustedProxies.All(p => TrustedProxies.TryParse(p) is not null),
                "Gateway:ClientAddress:TrustedProxies holds an entry that is neither an IP address nor a CIDR network.")
            .ValidateOnStart();
        builder.Services.AddSingleton<TrustedProxies>();
        return builder;
    }

    /// <summary>Must run before anything that reads the client address (rate limiter, hash policy).</summary>
    public static WebApplication UseClientAddresses(this WebApplication app)
    {
        app.UseMiddleware<ClientAddressMiddleware>();
        return app;
    }
}
