namespace Ecg2Af.Worker.Security;

/// <summary>
/// Endpoint metadata: the route needs the caller to be a verified key (<see cref="Required"/>) holding
/// <see cref="Scope"/>, or accepts one (the web form). Routes without it ignore credentials (health, metrics).
/// </summary>
internal sealed record ApiKeyRequirement(bool Required, string Scope);

internal static class ApiKeyRequirementExtensions
{
    /// <summary>A verified key with <paramref name="scope"/>: from the gateway (trusted proxy) or checked here.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder endpoint, string scope)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new ApiKeyRequirement(true, scope));

    /// <summary>No key needed; a key sent is checked and becomes the caller's identity.</summary>
    public static TBuilder AcceptApiKey<TBuilder>(this TBuilder endpoint, string scope)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new ApiKeyRequirement(false, scope));
}
