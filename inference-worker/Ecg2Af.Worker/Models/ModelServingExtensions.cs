namespace Ecg2Af.Worker.Models;

internal static class ModelServingExtensions
{
    public static WebApplicationBuilder AddModelServing(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>()
            .BindConfiguration(ModelOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelHost>());
        builder.Services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model", tags: [ServiceDefaults.ReadyTag]);
        return builder;
    }
}
