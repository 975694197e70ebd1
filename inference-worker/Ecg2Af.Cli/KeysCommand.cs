using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ecg2Af.Security;

namespace Ecg2Af.Cli;

/// <summary>
/// <c>ecg2af keys create --id NAME [--scopes predict admin] [--rate 20 --burst 40]</c>: a new API key, printed once
/// on standard output, and its configuration entry (JSON for appsettings, and environment variables for index N).
/// Only the hash goes into configuration; the key itself is not stored anywhere.
/// </summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var id = new Option<string>("--id") { Description = "The key's name (letters, digits, '.', '_', '-'): what logs and the audit trail show.", Required = true };
        var scopes = new Option<string[]>("--scopes")
        {
            Description = $"What the key may do: {string.Join(", ", ApiKeyScopes.All)} (default predict).",
            DefaultValueFactory = _ => [ApiKeyScopes.Predict],
            AllowMultipleArgumentsPerToken = true,
        };
        var index = new Option<int>("--index") { Description = "Entry number N of Security:ApiKeys for the environment-variable form.", DefaultValueFactory = _ => 0 };
        var rate = new Option<double?>("--rate") { Description = "Optional per-key rate limit at the gateway: permits per second." };
        var burst = new Option<int?>("--burst") { Description = "With --rate: the largest burst." };
        var create = new Command("create", "Create an API key: prints the key once and the Security:ApiKeys entry holding its hash.")
        {
            id, scopes, index, rate, burst,
        };
        create.SetAction(parse =>
        {
            var entry = new ApiKeyEntry
            {
                Id = parse.GetValue(id),
                Scopes = [.. parse.GetValue(scopes)!.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)],
                RateLimit = parse.GetValue(rate) is { } r ? new ApiKeyRateLimit { PermitsPerSecond = r, Burst = parse.GetValue(burst) ?? Math.Max(1, (int)Math.Ceiling(r * 2)) } : null,
            };
            var key = ApiKeyGenerator.Create();
            entry.Hash = ApiKeyHash.Of(key);
            var errors = new ApiKeyOptions { ApiKeys = [entry] }.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(entry)).ToList();
            if (errors.Count > 0 || parse.GetValue(index) < 0)
            {
                foreach (var error in errors)
                {
                    Console.Error.WriteLine($"ecg2af keys create: {error.ErrorMessage}");
                }

                if (parse.GetValue(index) < 0)
                {
                    Console.Error.WriteLine("ecg2af keys create: --index must be 0 or more.");
                }

                return 2;
            }

            Console.WriteLine(key);
            Console.Error.WriteLine();
            Console.Error.WriteLine("The line above is the key. It is shown only this once: give it to the client, keep it secret.");
            Console.Error.WriteLine("Configure the gateway and the workers with its entry (the hash, not the key):");
            Console.Error.WriteLine();
            Console.Error.WriteLine("  appsettings.json, in \"Security\": { \"ApiKeys\": [ ... ] }");
            Console.Error.WriteLine("  " + Json(entry));
            Console.Error.WriteLine();
            Console.Error.WriteLine("  or environment variables:");
            foreach (var line in Environment(entry, parse.GetValue(index)))
            {
                Console.Error.WriteLine("  " + line);
            }

            return 0;
        });
        return new Command("keys", "API keys for programmatic clients.") { create };
    }

    /// <summary>The entry as one line of JSON (Id, Hash, Scopes and, when set, RateLimit).</summary>
    public static string Json(ApiKeyEntry entry)
    {
        var node = new Dictionary<string, object?> { ["Id"] = entry.Id, ["Hash"] = entry.Hash, ["Scopes"] = entry.Scopes };
        if (entry.RateLimit is { } limit)
        {
            node["RateLimit"] = new Dictionary<string, object> { ["PermitsPerSecond"] = limit.PermitsPerSecond, ["Burst"] = limit.Burst };
        }

        return JsonSerializer.Serialize(node);
    }

    /// <summary>The entry as <c>Security__ApiKeys__N__…=value</c> lines.</summary>
    public static IEnumerable<string> Environment(ApiKeyEntry entry, int index)
    {
        var prefix = $"Security__ApiKeys__{index.ToString(CultureInfo.InvariantCulture)}__";
        yield return $"{prefix}Id={entry.Id}";
        yield return $"{prefix}Hash={entry.Hash}";
        for (var i = 0; i < entry.Scopes.Count; i++)
        {
            yield return $"{prefix}Scopes__{i.ToString(CultureInfo.InvariantCulture)}={entry.Scopes[i]}";
        }

        if (entry.RateLimit is { } limit)
        {
            yield return $"{prefix}RateLimit__PermitsPerSecond={limit.PermitsPerSecond.ToString(CultureInfo.InvariantCulture)}";
            yield return $"{prefix}RateLimit__Burst={limit.Burst.ToString(CultureInfo.InvariantCulture)}";
        }
    }
}
