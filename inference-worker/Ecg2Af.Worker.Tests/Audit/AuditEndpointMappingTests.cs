using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>How configuration shapes the audit endpoint (the worker host in memory).</summary>
[Collection(InProcessWorker.Name)]
public sealed class AuditEndpointMappingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-audit-map-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task AuditEndpoint_NoKeyConfigured_DoesNotExist()
    {
        await using var factory = Worker(null);
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
        request.Headers.Add("X-Api-Key", "anything-at-all-0123456789");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AuditEndpoint_KeyConfiguredNoneSent_Unauthorized()
    {
        await using var factory = Worker("configured-admin-key-0123456789");
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/api/v1/audit");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("Audit:AdminApiKey", "short", "AdminApiKey")]
    [InlineData("Audit:PostgresConnectionString", "Host=localhost;Bogus Setting=1", "PostgresConnectionString")]
    [InlineData("Audit:TrustedProxies:0", "not-an-address", "TrustedProxies")]
    public async Task Startup_BadAuditSetting_RefusedByOptionsValidation(string key, string value, string named)
    {
        await using var factory = Worker("configured-admin-key-0123456789", (key, value));

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    private WebApplicationFactory<Program> Worker(string? adminKey, (string Key, string Value)? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:RepositoryPath"] = Path.Combine(_folder, "models"),
            ["Audit:SqlitePath"] = Path.Combine(_folder, "audit.db"),
            ["Audit:AdminApiKey"] = adminKey,
        };
        if (extra is { } setting)
        {
            settings[setting.Key] = setting.Value;
        }

        return new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            web.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings)));
    }
}

/// <summary>
/// WebApplicationFactory finds the host it builds through process-wide diagnostic events, so two factories starting at
/// once can pick up each other's host: classes that start the worker in-process run one after the other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessWorker
{
    public const string Name = "in-process worker";
}
