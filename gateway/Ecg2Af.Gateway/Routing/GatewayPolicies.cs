namespace Ecg2Af.Gateway.Routing;

/// <summary>Names the gateway's policies are registered under (used in the ReverseProxy configuration).</summary>
internal static class GatewayPolicies
{
    public const string ClientIpHash = nameof(ClientIpHash);
}
