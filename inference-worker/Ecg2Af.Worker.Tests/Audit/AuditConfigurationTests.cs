using System.Net;
using Ecg2Af.Audit;
using Ecg2Af.LocalCluster;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>How configuration shapes the audit trail (the worker host in memory).</summary>
[Collection(InProcessWorker.Name)]
public sealed class AuditConfigurationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-audit-config-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

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

    [Fact]
    public async Task StoreDown_RequireCommitFalse_ResultServedAnyway()
    {
        await using var factory = Worker(null, ("Audit:RequireCommit", "false"), ("Audit:BusyTimeout", "00:00:00.200"));
        using var client = factory.CreateClient();
        for (var i = 0; i < 600 && (await client.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }

        var audit = Path.Combine(_folder, "audit.db");
        await using (var store = new SqliteAuditStore(audit, TimeSpan.FromSeconds(5)))
        {
            await store.EnsureCreatedAsync();
        }

        using var locked = new SqliteConnection($"Data Source={audit};Pooling=False");
        await locked.OpenAsync();
        using var transaction = locked.BeginTransaction(deferred: false);
        using var content = new MultipartFormDataContent
        {
            { new StringContent("Unaudited Person"), "name" },
            { new StringContent("unaudited@example.org"), "email" },
            { new ByteArrayContent(await File.ReadAllBytesAsync(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml"))), "ecg", "muse-sinus.xml" },
        };

        using var response = await client.PostAsync("/api/v1/predictions", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"af_risk\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        transaction.Rollback();
        await using var reader = new SqliteAuditStore(audit, TimeSpan.FromSeconds(5));
        Assert.Empty(await reader.QueryAsync(new AuditQuery(Email: "unaudited@example.org")));
    }

    [Theory]
    [InlineData("Audit:AdminApiKey", "short", "AdminApiKey")]
    [InlineData("Audit:PostgresConnectionString", "Host=localhost;Bogus Setting=1", "PostgresConnectionString")]
    [InlineData("Audit:TrustedProxies:0", "not-an-address", "TrustedProxies")]
    [InlineData("Audit:RequirePostgres", "true", "RequirePostgres")]
    public async Task Startup_BadAuditSetting_RefusedByOptionsValidation(string key, string value, string named)
    {
        await using var factory = Worker("configured-admin-key-0123456789", (key, value));

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    private WebApplicationFactory<Program> Worker(string? adminKey, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:RepositoryPath"] = Path.Combine(_folder, "models"),
            ["Audit:SqlitePath"] = Path.Combine(_folder, "audit.db"),
            ["Audit:AdminApiKey"] = adminKey,
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
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
