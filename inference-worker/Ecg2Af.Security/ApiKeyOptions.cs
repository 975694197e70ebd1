using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Ecg2Af.Security;

/// <summary>
/// API keys, stored only as hashes. Section <c>Security</c>, shared by the gateway and the workers:
/// <c>Security:ApiKeys:0:Id</c>, <c>…:Hash</c> (<c>sha256:</c> + 64 lowercase hex digits of the key's UTF-8 text),
/// <c>…:Scopes:0</c> (<c>predict</c>, <c>admin</c>) and an optional <c>…:RateLimit:PermitsPerSecond</c> /
/// <c>…:RateLimit:Burst</c> (the gateway's per-key token bucket; unset, the gateway's default for keys).
/// </summary>
public sealed partial class ApiKeyOptions : IValidatableObject
{
    public const string Section = "Security";

    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ApiKeys.Count; i++)
        {
            var key = ApiKeys[i];
            var where = $"Security:ApiKeys:{i}";
            if (key.Id is null || !IdPattern().IsMatch(key.Id))
            {
                yield return new ValidationResult($"{where}:Id must be 1 to 64 letters, digits, '.', '_' or '-'.", [nameof(ApiKeys)]);
            }
            else if (WarmUpCallers.IsWarmUp(key.Id))
            {
                yield return new ValidationResult($"{where}:Id '{key.Id}' is reserved for the services' own warm-up requests.", [nameof(ApiKeys)]);
            }
            else if (!ids.Add(key.Id))
            {
                yield return new ValidationResult($"{where}:Id '{key.Id}' is used by another key.", [nameof(ApiKeys)]);
            }

            // The hash is not secret, but a malformed one is only described, never echoed.
            if (!ApiKeyHash.IsWellFormed(key.Hash))
            {
                yield return new ValidationResult($"{where}:Hash must be 'sha256:' followed by 64 lowercase hex digits (ecg2af keys create prints it).", [nameof(ApiKeys)]);
            }
            else if (!hashes.Add(key.Hash!))
            {
                yield return new ValidationResult($"{where}:Hash is the same as another key's.", [nameof(ApiKeys)]);
            }

            if (key.Scopes.Count == 0)
            {
                yield return new ValidationResult($"{where}:Scopes needs at least one of: {string.Join(", ", ApiKeyScopes.All)}.", [nameof(ApiKeys)]);
            }

            foreach (var scope in key.Scopes.Where(s => !ApiKeyScopes.All.Contains(s, StringComparer.Ordinal)))
            {
                yield return new ValidationResult($"{where}:Scopes holds '{scope}'; known scopes: {string.Join(", ", ApiKeyScopes.All)}.", [nameof(ApiKeys)]);
            }

            if (key.RateLimit is { } limit && (limit.PermitsPerSecond is <= 0 or > 1_000_000 || limit.Burst is < 1 or > 1_000_000))
            {
                yield return new ValidationResult($"{where}:RateLimit needs PermitsPerSecond above 0 and Burst from 1 to 1,000,000.", [nameof(ApiKeys)]);
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex IdPattern();
}

/// <summary>One configured key: its id (what logs and the audit name), hash, scopes and optional rate limit.</summary>
public sealed class ApiKeyEntry
{
    public string? Id { get; set; }

    public string? Hash { get; set; }

    public List<string> Scopes { get; set; } = [];

    public ApiKeyRateLimit? RateLimit { get; set; }

    public bool Allows(string scope) => Scopes.Contains(scope, StringComparer.Ordinal);
}

/// <summary>A key's own token bucket at the gateway: <see cref="PermitsPerSecond"/> refill, <see cref="Burst"/> bucket size.</summary>
public sealed class ApiKeyRateLimit
{
    public double PermitsPerSecond { get; set; }

    public int Burst { get; set; }
}
