using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Security;

/// <summary>How a proxied route treats credentials.</summary>
internal enum RouteAccess
{
    /// <summary>No key needed, and a key sent is ignored (health probes).</summary>
    Open,

    /// <summary>No key needed (the form's name and email identify the caller), but a key sent is checked and forwarded.</summary>
    KeyOptional,

    /// <summary>A valid key holding <see cref="RouteRule.Scope"/>.</summary>
    KeyRequired,
}

/// <summary>One row of the route table. <see cref="Method"/> null matches every method.</summary>
internal sealed record RouteRule(string? Method, string Template, RouteAccess Access, string? Scope = null)
{
    private readonly string[] _segments = Template.Trim('/').Split('/');

    public bool Matches(string method, string[] path)
    {
        if (Method is not null && !string.Equals(Method, method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        for (var i = 0; i < _segments.Length; i++)
        {
            var pattern = _segments[i];
            if (pattern.StartsWith("{**", StringComparison.Ordinal))
            {
                return true; // the rest of the path, possibly empty
            }

            if (i >= path.Length)
            {
                return false;
            }

            if (pattern.StartsWith('{'))
            {
                if (path[i].Length == 0)
                {
                    return false;
                }

                continue;
            }

            if (!string.Equals(pattern, path[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return path.Length == _segments.Length;
    }
}

/// <summary>
/// THE table of which proxied route needs which key scope; nothing else in the gateway decides it. First match
/// wins. Anything under the proxied prefixes that no row names needs a <c>predict</c> key (deny by default), so a
/// route added to the workers later is protected until it is listed here. Paths outside the prefixes (the web page,
/// the API reference page <c>/docs</c> and its assets, <c>/health/*</c>, <c>/metrics</c>) are the gateway's own,
/// public, and never reach a worker.
/// </summary>
internal static class ApiKeyRoutes
{
    /// <summary>Path prefixes the gateway forwards to workers (the YARP routes, plus gRPC services).</summary>
    public static IReadOnlyList<string> ProxiedPrefixes { get; } =
    [
        "/api", "/v2", "/openapi", "/inference.GRPCInferenceService", "/grpc.health.v1.Health",
        "/grpc.reflection.v1.ServerReflection", "/grpc.reflection.v1alpha.ServerReflection",
    ];

    public static IReadOnlyList<RouteRule> Rules { get; } =
    [
        // Open Inference Protocol REST: inference and model metadata need a key; liveness/readiness are probes.
        new("POST", "/v2/models/{model}/infer", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new("POST", "/v2/models/{model}/versions/{version}/infer", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new("GET", "/v2", RouteAccess.Open), // server metadata: name, version, extensions
        new("GET", "/v2/health/live", RouteAccess.Open),
        new("GET", "/v2/health/ready", RouteAccess.Open),

        // Open Inference Protocol over gRPC (metadata `authorization: Bearer <key>`), the same split as REST:
        // inference and model metadata need a key; server liveness, readiness and metadata are probes, and so are the
        // standard gRPC health service and reflection (which describes only the public .proto).
        new("POST", "/inference.GRPCInferenceService/ModelInfer", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new("POST", "/inference.GRPCInferenceService/ModelMetadata", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new("POST", "/inference.GRPCInferenceService/ModelReady", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new("POST", "/inference.GRPCInferenceService/ServerLive", RouteAccess.Open),
        new("POST", "/inference.GRPCInferenceService/ServerReady", RouteAccess.Open),
        new("POST", "/inference.GRPCInferenceService/ServerMetadata", RouteAccess.Open),
        new("POST", "/grpc.health.v1.Health/{**rest}", RouteAccess.Open),
        new("POST", "/grpc.reflection.v1.ServerReflection/{**rest}", RouteAccess.Open),
        new("POST", "/grpc.reflection.v1alpha.ServerReflection/{**rest}", RouteAccess.Open),

        // The OpenAPI document of the REST API (the workers build it; the gateway's /docs page reads it): public.
        new("GET", "/openapi/v1.json", RouteAccess.Open),

        // Programmatic ECG routes.
        new("POST", "/api/v1/predictions:batch", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new("POST", "/api/v1/ecg:preprocess", RouteAccess.KeyRequired, ApiKeyScopes.Predict),

        // The web form: usable without a key (name and email are its identity), accepts one too.
        new("POST", "/api/v1/predictions", RouteAccess.KeyOptional, ApiKeyScopes.Predict),

        // The audit API (queries, erasure): administrators only.
        new(null, "/api/v1/audit", RouteAccess.KeyRequired, ApiKeyScopes.Admin),
        new(null, "/api/v1/audit/{**rest}", RouteAccess.KeyRequired, ApiKeyScopes.Admin),

        // Deny by default: everything else forwarded to the workers.
        new(null, "/api/{**rest}", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
        new(null, "/v2/{**rest}", RouteAccess.KeyRequired, ApiKeyScopes.Predict),
    ];

    /// <summary>The rule for a request, or null when the path is not forwarded to the workers.</summary>
    public static RouteRule? Find(string method, PathString path)
    {
        var value = path.Value ?? "";
        if (!ProxiedPrefixes.Any(p => value.Equals(p, StringComparison.OrdinalIgnoreCase)
                || value.StartsWith(p + "/", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var segments = value.TrimEnd('/').TrimStart('/').Split('/');
        return Rules.FirstOrDefault(r => r.Matches(method, segments))
            ?? new RouteRule(null, value, RouteAccess.KeyRequired, ApiKeyScopes.Predict);
    }
}
