using Microsoft.Extensions.FileProviders;

namespace Ecg2Af.Gateway;

/// <summary>Serves the static web form (the repository's <c>web/</c> folder, copied next to the gateway's binaries) at <c>/</c>.</summary>
internal static class WebHosting
{
    public static WebApplication UseWebForm(this WebApplication app)
    {
        var configured = app.Configuration["Web:Root"];
        var root = Path.GetFullPath(configured is { Length: > 0 } ? configured : Path.Combine(AppContext.BaseDirectory, "web"));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The web form folder {root} does not exist (set Web:Root).");
        }

        app.UseFileServer(new FileServerOptions { FileProvider = new PhysicalFileProvider(root), RequestPath = "" });
        return app;
    }
}
