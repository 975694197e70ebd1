using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Uploads;

internal static class UploadExtensions
{
    /// <summary>Upload limits, bound and validated at start-up, enforced by Kestrel and the form reader (413 beyond).</summary>
    public static WebApplicationBuilder AddUploads(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UploadOptions>()
            .BindConfiguration(UploadOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
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
