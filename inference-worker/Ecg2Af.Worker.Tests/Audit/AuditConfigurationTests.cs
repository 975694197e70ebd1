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
    public async Task AuditEndpoint_NoKeySent_UnauthorizedWithChallenge()
    {
        await using var factory = Worker(null);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/api/v1/audit");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AuditEndpoint_PredictOnlyKey_Forbidden_AdminKey_Ok()
    {
        var predict = TestApiKey.Create("predict-only");
        var admin = TestApiKey.Create("auditor", [Ecg2Af.Security.ApiKeyScopes.Admin]);
        await using var factory = Worker(null, [.. Keys(predict, 0), .. Keys(admin, 1)]);
        using var client = factory.CreateClient();

        using var forbidden = await client.SendAsync(predict.Authorize(new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit")));
        using var allowed = await client.SendAsync(admin.Authorize(new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit")));

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
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
    [InlineData("Audit:AdminApiKey", "an-old-style-admin-key-0123456789", "Security:ApiKeys")]
    [InlineData("Security:ApiKeys:0:Hash", "sha256:abc", "Security:ApiKeys:0:Hash")]
    [InlineData("Security:ApiKeys:0:Scopes:0", "everything", "everything")]
    [InlineData("Audit:PostgresConnectionString", "Host=localhost;Bogus Setting=1", "PostgresConnectionString")]
    [InlineData("Audit:TrustedProxies:0", "not-an-address", "TrustedProxies")]
    [InlineData("Audit:RequirePostgres", "true", "RequirePostgres")]
    [InlineData("Audit:RetentionDays", "0", "RetentionDays")]
    public async Task Startup_BadAuditSetting_RefusedByOptionsValidation(string key, string value, string named)
    {
        var valid = TestApiKey.Create("startup-check");
        await using var factory = Worker(null, [.. Keys(valid, 0), (key, value)]);

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A key's settings in configuration-path form (':' instead of '__').</summary>
    private static (string Key, string Value)[] Keys(TestApiKey key, int index) =>
        [.. key.Settings(index).Select(p => (p.Key.Replace("__", ":", StringComparison.Ordinal), p.Value))];

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
