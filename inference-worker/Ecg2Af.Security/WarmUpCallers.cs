namespace Ecg2Af.Security;

/// <summary>
/// The caller ids the services' own warm-up requests carry in <see cref="ApiKeyCredentials.KeyIdHeader"/>: what their
/// audit records name, and how the tracing filters know them. Neither is a configured key, so no client can use one.
/// </summary>
public static class WarmUpCallers
{
    /// <summary>A worker calling itself over loopback before it reports ready.</summary>
    public const string Worker = "worker-warm-up";

    /// <summary>The gateway calling itself, through its forwarding path to the workers, before it reports ready.</summary>
    public const string Gateway = "gateway-warm-up";

    public static bool IsWarmUp(string? keyId) => keyId is Worker or Gateway;
}
