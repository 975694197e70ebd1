using System.Text.Json.Nodes;
using Ecg2Af.Worker.Tests.Audit;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ecg2Af.Worker.Tests.OpenApi;

/// <summary>
/// The worker's OpenAPI document against the routes it really maps (its <see cref="EndpointDataSource"/>): a route
/// added without being described fails here, and so does a described path that no longer exists. The answers
/// themselves are checked against the document through the gateway (Ecg2Af.Gateway.Tests, ApiContractTests).
/// </summary>
[Collection(InProcessWorker.Name)]
public sealed class ApiDocumentTests : IAsyncLifetime
{
    /// <summary>Routes left out on purpose: the Prometheus scrape (never proxied by the gateway) and the document itself.</summary>
    private static readonly string[] Undocumented = ["/metrics", "/openapi/{documentName}.json"];

    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-openapi-").FullName;
    private WebApplicationFactory<Program> _factory = null!;
    private JsonObject _document = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:RepositoryPath"] = Path.Combine(_folder, "models"),
            ["Audit:SqlitePath"] = Path.Combine(_folder, "audit.db"),
        };
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            web.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings)));
        using var client = _factory.CreateClient();
        _document = JsonNode.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!.AsObject();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Document_IsOpenApi31()
    {
        Assert.StartsWith("3.1.", (string)_document["openapi"]!, StringComparison.Ordinal);
        Assert.Equal("Ecg2Af API", (string)_document["info"]!["title"]!);
    }

    [Fact]
    public void EveryMappedRoute_IsDocumented_WithEachOfItsMethods_AndNothingElseIs()
    {
        var paths = _document["paths"]!.AsObject();
        var mapped = Routes();

        var undocumented = mapped
            .SelectMany(r => r.Methods.Select(m => (r.Path, Method: m)))
            .Where(r => paths[r.Path]?[r.Method.ToLowerInvariant()] is null)
            .Select(r => $"{r.Method} {r.Path}")
            .ToList();
        var stale = paths
            .SelectMany(p => p.Value!.AsObject().Select(o => (Path: p.Key, Method: o.Key.ToUpperInvariant())))
            .Where(d => !mapped.Any(r => r.Path == d.Path && r.Methods.Contains(d.Method)))
            .Select(d => $"{d.Method} {d.Path}")
            .ToList();

        Assert.True(mapped.Count >= 17, $"Only {mapped.Count} routes found: {string.Join(", ", mapped.Select(r => r.Path))}");
        Assert.True(undocumented.Count == 0, $"Mapped but not in the OpenAPI document: {string.Join(", ", undocumented)}");
        Assert.True(stale.Count == 0, $"In the OpenAPI document but not mapped: {string.Join(", ", stale)}");
    }

    [Fact]
    public void EveryOperation_HasAnIdASummaryATagAndItsErrorAnswers()
    {
        var operations = _document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Name: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!)))
            .ToList();

        Assert.All(operations, o =>
        {
            Assert.False(string.IsNullOrWhiteSpace((string?)o.Operation["operationId"]), $"{o.Name} has no operationId");
            Assert.False(string.IsNullOrWhiteSpace((string?)o.Operation["summary"]), $"{o.Name} has no summary");
            Assert.NotEmpty(o.Operation["tags"]!.AsArray());
            // Every route but the liveness probe (which answers whenever the process does) can fail, and says how.
            if (o.Name != "GET /health/live")
            {
                Assert.Contains(o.Operation["responses"]!.AsObject(), r => r.Key[0] is '4' or '5');
            }
        });
        Assert.Equal(operations.Count, operations.Select(o => (string)o.Operation["operationId"]!).Distinct().Count());
    }

    /// <summary>The worker's HTTP routes and their methods (a route without method metadata answers any method; GET is the one to describe).</summary>
    private List<(string Path, IReadOnlyList<string> Methods)> Routes() =>
        _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            // The gRPC services (and their catch-all for unknown methods) are described by their .proto.
            .Where(e => e.DisplayName?.StartsWith("gRPC - ", StringComparison.Ordinal) != true)
            .Select(e => (Path: "/" + e.RoutePattern.RawText!.Trim('/'),
                Methods: (IReadOnlyList<string>)(e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])))
            .Where(r => !Undocumented.Contains(r.Path))
            .GroupBy(r => r.Path)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.SelectMany(r => r.Methods).Distinct().ToList()))
            .ToList();
}
