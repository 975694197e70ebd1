using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Predictions;

internal static class PredictionsExtensions
{
    public static WebApplicationBuilder AddPredictions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UploadOptions>()
            .BindConfiguration(UploadOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<InferenceExecutor>();

        // One limit for the whole body, enforced by Kestrel and by the form reader (413 beyond it).
        builder.Services.AddOptions<FormOptions>().Configure<IOptions<UploadOptions>>((form, uploads) =>
        {
            form.MultipartBodyLengthLimit = uploads.Value.MaxRequestBytes;
            form.ValueLengthLimit = 64 * 1024;
        });
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
            kestrel.Limits.MaxRequestBodySize = context.Configuration.GetSection(UploadOptions.Section)
                .GetValue(nameof(UploadOptions.MaxRequestBytes), new UploadOptions().MaxRequestBytes));
        return builder;
    }
}
