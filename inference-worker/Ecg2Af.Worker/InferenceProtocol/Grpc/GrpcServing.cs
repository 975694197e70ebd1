using System.ComponentModel.DataAnnotations;
using Ecg2Af.Worker.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ecg2Af.Worker.InferenceProtocol.Grpc;

/// <summary>Where the worker serves gRPC (section <c>Worker</c>).</summary>
internal sealed class GrpcServingOptions
{
    public const string Section = "Worker";

    /// <summary>This worker's stable id in <c>X-Ecg2Af-Worker</c> (read by <see cref="WorkerIdentity"/>; default host:port).</summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// Port of the cleartext HTTP/2 (h2c, prior knowledge) listener for gRPC, on the host of the first HTTP address.
    /// Unset: no gRPC listener of its own (a Kestrel endpoint named in configuration with <c>Protocols: Http2</c> serves
    /// it instead).
    /// </summary>
    [Range(1, 65535)]
    public int? GrpcPort { get; set; }
}

/// <summary>
/// The OIP gRPC service, <c>grpc.health.v1.Health</c> (mapped to readiness: the model serves and the worker is not
/// draining) and server reflection, on a separate h2c listener (<c>Worker:GrpcPort</c>) next to the HTTP/1.1 one.
/// </summary>
internal static class GrpcServing
{
    public static WebApplicationBuilder AddGrpcInference(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GrpcServingOptions>().BindConfiguration(GrpcServingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<GrpcMetricsInterceptor>();
            // One ModelInfer of a batch of 16 ECGs is 3.84 MB of raw input; the REST path's own limit is the upload limit.
            o.MaxReceiveMessageSize = 64 * 1024 * 1024;
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks(o =>
        {
            // Overall ("") and the inference service: SERVING only when readiness says so.
            o.Services.Map("", r => r.Tags.Contains(ServiceDefaults.ReadyTag));
            o.Services.Map("inference.GRPCInferenceService", r => r.Tags.Contains(ServiceDefaults.ReadyTag));
        });

        var port = builder.Configuration.GetValue<int?>($"{GrpcServingOptions.Section}:{nameof(GrpcServingOptions.GrpcPort)}");
        if (port is >= 1 and <= 65535)
        {
            ListenForGrpc(builder, port.Value);
        }

        return builder;
    }

    public static WebApplication MapGrpcInference(this WebApplication app)
    {
        app.MapGrpcService<GrpcInferenceService>().AcceptApiKey(Ecg2Af.Security.ApiKeyScopes.Predict);
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>
    /// Adds <c>http://host:port</c> (host of the first configured address) to the addresses Kestrel binds, HTTP/2 only.
    /// The other addresses stay as configured (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>).
    /// </summary>
    private static void ListenForGrpc(WebApplicationBuilder builder, int port)
    {
        var urls = ConfiguredUrls(builder.Configuration);
        var host = Uri.TryCreate(urls[0].Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var first)
            ? urls[0].Contains('*', StringComparison.Ordinal) || urls[0].Contains('+', StringComparison.Ordinal) ? "*" : first.Host
            : "localhost";
        var grpc = $"http://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{port}";
        builder.WebHost.UseUrls([.. urls, grpc]);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen =>
        {
            if (listen.IPEndPoint?.Port == port)
            {
                listen.Protocols = HttpProtocols.Http2;
            }
        }));
    }

    private static string[] ConfiguredUrls(IConfiguration configuration)
    {
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var ports = new List<string>();
        foreach (var (key, scheme) in new[] { (WebHostDefaults.HttpPortsKey, "http"), (WebHostDefaults.HttpsPortsKey, "https") })
        {
            foreach (var p in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                ports.Add($"{scheme}://*:{p}");
            }
        }

        return ports.Count > 0 ? [.. ports] : ["http://localhost:5000"];
    }
}
