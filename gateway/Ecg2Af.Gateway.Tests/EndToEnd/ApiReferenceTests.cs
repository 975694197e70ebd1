using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Ecg2Af.Gateway.Security;
using Ecg2Af.Gateway.Tests.Contract;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// <c>/openapi/v1.json</c> and the API reference page <c>/docs</c> through the real gateway: public, the document
/// OpenAPI 3.1, the page's scripts served by the gateway itself (no CDN) and allowed by the page's own policy, and the
/// document's key rules the same as the gateway's route table.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class ApiReferenceTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Document_IsPublicOpenApi31_DescribingTheHostItCameFrom()
    {
        using var anonymous = LoopbackClients.Create(LoopbackClients.Address(240));
        using var response = await anonymous.GetAsync(new Uri(fixture.Gateway, "/openapi/v1.json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        Assert.StartsWith("3.1.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("/", root.GetProperty("servers")[0].GetProperty("url").GetString());
        foreach (var path in new[] { "/api/v1/predictions", "/api/v1/predictions:batch", "/api/v1/ecg:preprocess", "/v2/models/{model}/infer", "/api/v1/audit", "/health/ready" })
        {
            Assert.True(root.GetProperty("paths").TryGetProperty(path, out _), $"{path} is not in the document");
        }

        Assert.True(root.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("api_key", out var scheme));
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task Docs_ServesScalar_ScriptsFromTheGateway_AllowedByThePagesPolicy()
    {
        using var anonymous = LoopbackClients.Create(LoopbackClients.Address(241));
        using var response = await anonymous.GetAsync(new Uri(fixture.Gateway, "/docs"));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"openapi/v1.json\"", html, StringComparison.Ordinal); // relative to the site root
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);

        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("http", csp, StringComparison.Ordinal);
        var scriptSources = Directive(csp, "script-src");
        Assert.Contains("'self'", scriptSources);
        Assert.DoesNotContain("'unsafe-inline'", scriptSources);
        // 'unsafe-eval' (Scalar compiles code at run time) is this page's only: the web form's policy stays strict.
        using var form = await anonymous.GetAsync(new Uri(fixture.Gateway, "/"));
        Assert.DoesNotContain("unsafe", Assert.Single(form.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);

        // Every script tag, the inline bootstrap included, carries this answer's nonce, and the policy names it.
        var nonce = Assert.Single(scriptSources, s => s.StartsWith("'nonce-", StringComparison.Ordinal))["'nonce-".Length..^1];
        Assert.True(nonce.Length >= 16, nonce);
        var tags = ScriptTag().Matches(html).Select(m => m.Value).ToList();
        Assert.Contains(tags, t => !t.Contains("src=", StringComparison.Ordinal));
        Assert.All(tags, t => Assert.Contains($"nonce=\"{nonce}\"", t, StringComparison.Ordinal));
        using var again = await anonymous.GetAsync(new Uri(fixture.Gateway, "/docs/"));
        Assert.DoesNotContain(nonce, Assert.Single(again.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);

        var sources = ScriptSource().Matches(html).Select(m => m.Groups["src"].Value).ToList();
        Assert.Contains(sources, s => s.EndsWith("scalar.js", StringComparison.Ordinal));
        foreach (var source in sources)
        {
            var url = new Uri(response.RequestMessage!.RequestUri!, source);
            Assert.Equal(fixture.Gateway.Authority, url.Authority);
            using var script = await anonymous.GetAsync(url);
            var bytes = await script.Content.ReadAsByteArrayAsync();
            Assert.True(script.StatusCode == HttpStatusCode.OK, $"{url}: {(int)script.StatusCode}");
            Assert.Contains("javascript", script.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            Assert.True(bytes.Length > 1000, $"{url} is only {bytes.Length} bytes");
        }
    }

    [Fact]
    public async Task EveryOperation_StatesTheKeyRuleOfTheGatewaysRouteTable()
    {
        var contract = await ApiContract.FetchAsync(fixture.Gateway);
        var mismatches = new List<string>();
        foreach (var path in contract.Root.GetProperty("paths").EnumerateObject())
        {
            // A concrete path for the template: each {parameter} becomes a value.
            var concrete = new PathString(Parameter().Replace(path.Name, "x"));
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = operation.Name.ToUpperInvariant();
                var rule = ApiKeyRoutes.Find(method, concrete);
                var documented = Documented(operation.Value);
                var actual = rule is null || rule.Access == RouteAccess.Open ? "open"
                    : rule.Access == RouteAccess.KeyOptional ? $"optional {rule.Scope}" : $"required {rule.Scope}";
                if (documented != actual)
                {
                    mismatches.Add($"{method} {path.Name}: the document says {documented}, the gateway {actual}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    /// <summary>"open", "optional scope" or "required scope", from an operation's security requirements.</summary>
    private static string Documented(JsonElement operation)
    {
        if (!operation.TryGetProperty("security", out var security) || security.GetArrayLength() == 0)
        {
            return "open";
        }

        var optional = security.EnumerateArray().Any(r => !r.EnumerateObject().Any());
        var scopes = security.EnumerateArray().SelectMany(r => r.EnumerateObject()).SelectMany(s => s.Value.EnumerateArray()).Select(s => s.GetString()).Distinct().ToList();
        return $"{(optional ? "optional" : "required")} {string.Join(",", scopes)}";
    }

    private static List<string> Directive(string policy, string name) =>
        policy.Split(';', StringSplitOptions.TrimEntries)
            .Where(d => d.StartsWith(name + " ", StringComparison.Ordinal))
            .SelectMany(d => d.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            .ToList();

    [GeneratedRegex("<script[^>]*>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<script[^>]*\\bsrc=\"(?<src>[^\"]+)\"")]
    private static partial Regex ScriptSource();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
