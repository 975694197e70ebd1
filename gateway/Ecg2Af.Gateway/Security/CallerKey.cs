using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Security;

/// <summary>The verified key of a request (an HttpContext feature); absent for anonymous requests.</summary>
internal sealed record CallerKey(ApiKeyEntry Entry)
{
    public string Id => Entry.Id!;
}
