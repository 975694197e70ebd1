namespace Ecg2Af.Worker.Security;

/// <summary>
/// Who made the request (an HttpContext feature, absent for an anonymous form submission): the API key id, and
/// whether the gateway verified it (<see cref="ViaProxy"/>) or this worker did.
/// </summary>
internal sealed record Caller(string KeyId, bool ViaProxy)
{
    /// <summary>The caller's key id for the audit record, or null.</summary>
    public static string? KeyIdOf(HttpContext context) => context.Features.Get<Caller>()?.KeyId;
}
