using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Ecg2Af.Worker;

/// <summary>
/// Stamps every response with <c>X-Ecg2Af-Worker</c>: this worker's stable instance id, from
/// <c>Worker:InstanceId</c> or else the host name and listening port.
/// </summary>
internal static class WorkerIdentity
{
    public const string Header = "X-Ecg2Af-Worker";

    public static WebApplication UseWorkerIdentity(this WebApplication app)
    {
        var configured = app.Configuration["Worker:InstanceId"];
        var server = app.Services.GetRequiredService<IServer>();
        var id = new Lazy<string>(() => configured is { Length: > 0 } ? configured : FromAddress(server));
        app.Use((context, next) =>
        {
            context.Response.Headers[Header] = id.Value;
            return next(context);
        });
        return app;
    }

    private static string FromAddress(IServer server)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var port = address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.Port : 0;
        return $"{Environment.MachineName}:{port}";
    }
}
