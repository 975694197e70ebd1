using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// What the gateway needs to know about gRPC: which requests are gRPC (content type <c>application/grpc*</c>), how to
/// answer one itself (a trailers-only response whose <c>grpc-status</c> matches the HTTP status it would have sent),
/// how to read the status a worker answered, and the h2c listener (<c>Gateway:GrpcPort</c>).
/// </summary>
internal static class GrpcProtocol
{
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string RetryPushbackHeader = "grpc-retry-pushback-ms";

    /// <summary>gRPC status codes the gateway uses (the numbers are the protocol's).</summary>
    public const int Ok = 0, Cancelled = 1, Unknown = 2, InvalidArgument = 3, DeadlineExceeded = 4, NotFound = 5, PermissionDenied = 7,
        ResourceExhausted = 8, Unimplemented = 12, Internal = 13, Unavailable = 14, Unauthenticated = 16;

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>The gRPC status for an answer the gateway would give as <paramref name="httpStatus"/> to a REST client.</summary>
    public static int FromHttpStatus(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status400BadRequest => InvalidArgument,
        StatusCodes.Status401Unauthorized => Unauthenticated,
        StatusCodes.Status403Forbidden => PermissionDenied,
        StatusCodes.Status404NotFound => Unimplemented,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => ResourceExhausted,
        StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable => Unavailable,
        StatusCodes.Status504GatewayTimeout => DeadlineExceeded,
        _ => Unknown,
    };

    /// <summary>
    /// Answers a gRPC request with a trailers-only response: HTTP 200, <c>grpc-status</c> and <c>grpc-message</c> in the
    /// headers, and when to come back as <c>retry-after</c> (seconds) and <c>grpc-retry-pushback-ms</c>.
    /// </summary>
    public static Task WriteStatusAsync(HttpContext context, int httpStatus, string message, long? retryAfterSeconds)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers[StatusHeader] = FromHttpStatus(httpStatus).ToString(CultureInfo.InvariantCulture);
        response.Headers[MessageHeader] = Uri.EscapeDataString(message);
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            response.Headers[RetryPushbackHeader] = (seconds * 1000).ToString(CultureInfo.InvariantCulture);
        }

        return Task.CompletedTask;
    }

    /// <summary>The <c>grpc-status</c> of a response as it left (trailers-only in the headers, else in the trailers), or null.</summary>
    public static int? ResponseStatus(HttpContext context)
    {
        var text = context.Response.Headers[StatusHeader].ToString();
        if (text.Length == 0 && context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { } trailers)
        {
            text = trailers[StatusHeader].ToString();
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
    }

    /// <summary>A worker's trailers-only UNAVAILABLE (overloaded, draining, model not ready): as retryable as its REST 503.</summary>
    public static bool IsUnavailable(HttpResponseMessage response) =>
        response.StatusCode == System.Net.HttpStatusCode.OK &&
        response.Headers.TryGetValues(StatusHeader, out var values) &&
        values.FirstOrDefault() == "14";

    /// <summary>Whether the answer so far is a gRPC UNAVAILABLE (for passive health: it counts like a 503).</summary>
    public static bool IsUnavailable(HttpContext context) => IsGrpc(context.Request) && ResponseStatus(context) == Unavailable;

    /// <summary>
    /// Adds an HTTP/2-only (h2c, prior knowledge) listener on <paramref name="port"/>, on the host of the first configured
    /// address, to the addresses Kestrel binds; the others stay as configured (<c>Urls</c>, <c>--urls</c>,
    /// <c>ASPNETCORE_HTTP_PORTS</c>).
    /// </summary>
    public static void ListenForGrpc(WebApplicationBuilder builder, int port)
    {
        var urls = ConfiguredUrls(builder.Configuration);
        var wildcard = urls[0].Contains('*', StringComparison.Ordinal) || urls[0].Contains('+', StringComparison.Ordinal);
        var host = wildcard ? "*" : Uri.TryCreate(urls[0], UriKind.Absolute, out var first) ? first.Host : "localhost";
        builder.WebHost.UseUrls([.. urls, $"http://{host}:{port}"]);
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
