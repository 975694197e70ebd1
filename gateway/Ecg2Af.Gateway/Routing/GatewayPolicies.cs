namespace Ecg2Af.Gateway.Routing;

/// <summary>Names the gateway's policies are registered under (used in the ReverseProxy configuration).</summary>
internal static class GatewayPolicies
{
    /// <summary>Cluster <c>LoadBalancingPolicy</c>: rendezvous hashing of the client IP.</summary>
    public const string ClientIpHash = nameof(ClientIpHash);

    /// <summary>Cluster <c>HealthCheck:Passive:Policy</c>: transport failures and 5xx answers over a sliding window.</summary>
    public const string FailureRate = nameof(FailureRate);
}
