using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ecg2Af.Audit;
using Ecg2Af.LocalCluster;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>
/// The real worker on real Kestrel (loopback) inside the test process, so every log entry, span and metric it emits
/// can be captured: a run with a distinctive name and email, through success and error paths, must leave neither
/// anywhere but the audit store; and a wrong API key carrying the same token must leave its text nowhere at all.
/// </summary>
[Collection(InProcessWorker.Name)]
public sealed class PrivacyTests : IAsyncLifetime
{
    private readonly TestApiKey _admin = TestApiKey.Create("privacy-admin", [Ecg2Af.Security.ApiKeyScopes.Admin]);
    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-privacy-").FullName;
    private readonly TelemetryCapture _capture = new();
    // Letters that never occur in hex ids or numbers, so a hit can only be the personal data.
    private readonly string _token = new(Enumerable.Range(0, 12).Select(_ => "ghjkmnpqrstvwxyz"[Random.Shared.Next(16)]).ToArray());
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    private string PersonName => $"Zelda Privacyprobe {_token}";

    private string Email => $"zelda.{_token}@privacy-probe.example.org";

    private string AuditPath => Path.Combine(_folder, "audit.db");

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:RepositoryPath"] = Path.Combine(_folder, "models"),
            ["Audit:SqlitePath"] = AuditPath,
            ["Security:ApiKeys:0:Id"] = _admin.Id,
            ["Security:ApiKeys:0:Hash"] = _admin.Hash,
            ["Security:ApiKeys:0:Scopes:0"] = "admin",
            ["Audit:BusyTimeout"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        };
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            web.ConfigureLogging(logging => logging.AddProvider(_capture).SetMinimumLevel(LogLevel.Trace));
        });
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(120) };
        for (var i = 0; i < 600 && (await _client.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        _capture.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Run_SuccessAndErrorPaths_NameAndEmailOnlyInAuditStore()
    {
        Assert.StartsWith("http://127.0.0.1:", _client.BaseAddress!.ToString(), StringComparison.Ordinal);
        var sinus = RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml");
        var statuses = new List<HttpStatusCode>
        {
            await PostAsync(PersonName, Email, ("muse-sinus.xml", File.ReadAllBytes(sinus))),
            await PostAsync(PersonName, $"zelda.{_token}-at-nowhere", ("muse-sinus.xml", File.ReadAllBytes(sinus))),
            await PostAsync(PersonName, Email, ("notes.txt", Encoding.UTF8.GetBytes("Shopping list: milk, eggs.\n"))),
            await PostAsync(PersonName, Email, ("broken.xml", Encoding.UTF8.GetBytes("<RestingECG><Waveform>"))),
            await PostAsync(PersonName, Email),
            await PostAsync(string.Concat(Enumerable.Repeat(PersonName, 20)), Email, ("muse-sinus.xml", File.ReadAllBytes(sinus))),
        };

        // The store down: the write fails, is logged, counted and traced, and the request is refused.
        using (var locked = new SqliteConnection($"Data Source={AuditPath};Pooling=False"))
        {
            await locked.OpenAsync();
            using var transaction = locked.BeginTransaction(deferred: false);
            statuses.Add(await PostAsync(PersonName, Email, ("muse-sinus.xml", File.ReadAllBytes(sinus))));
            transaction.Rollback();
        }

        // Wrong keys carrying the token, on the programmatic routes, in both headers: refused, and their text is
        // nowhere below (logs, spans, metrics, answers).
        var wrongKey = $"e2a_{_token}WrongKey";
        foreach (var (path, header) in new[] { ("/v2/models/ecg2af/infer", "Authorization"), ("/api/v1/ecg:preprocess", "X-Api-Key"), ("/api/v1/audit", "Authorization") })
        {
            using var wrong = new HttpRequestMessage(path.EndsWith("audit", StringComparison.Ordinal) ? HttpMethod.Get : HttpMethod.Post, path);
            wrong.Headers.TryAddWithoutValidation(header, header == "Authorization" ? $"Bearer {wrongKey}" : wrongKey);
            if (wrong.Method == HttpMethod.Post)
            {
                wrong.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var refused = await _client.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.DoesNotContain(_token, await refused.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        // The administrator's query by email (the address travels in a header, not the URL).
        using var query = _admin.Authorize(new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit"));
        query.Headers.Add("X-Audit-Email", Email);
        using var answer = await _client.SendAsync(query);
        var metrics = await _client.GetStringAsync("/metrics");
        _capture.RecordObservables();

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType, HttpStatusCode.BadRequest,
             HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.ServiceUnavailable],
            statuses);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        // The data did reach the store...
        await using (var store = new SqliteAuditStore(AuditPath, TimeSpan.FromSeconds(5)))
        {
            var records = await store.QueryAsync(new AuditQuery(Limit: 100));
            Assert.Equal(6, records.Count(r => r.Name?.Contains(_token, StringComparison.Ordinal) == true));
            Assert.Contains(records, r => r.Email == Email && r.StatusCode == 200);
        }

        // ...the capture saw the run (so finding nothing below means something)...
        Assert.Contains(_capture.Logs, l => l.Contains("[200] Prediction ", StringComparison.Ordinal));
        Assert.Contains(_capture.Logs, l => l.Contains("[701] Audit record", StringComparison.Ordinal));
        Assert.Contains(_capture.Spans, s => s.StartsWith("Microsoft.AspNetCore Microsoft.AspNetCore.Hosting.HttpRequestIn", StringComparison.Ordinal));
        Assert.Contains(_capture.Spans, s => s.StartsWith("Ecg2Af.Audit audit.write", StringComparison.Ordinal));
        Assert.Contains(_capture.Measurements, m => m.Contains("http.server.request.duration", StringComparison.Ordinal));
        Assert.Contains("ecg2af_audit_writes_total{store=\"sqlite\",outcome=\"failed\"}", metrics, StringComparison.Ordinal);

        // ...and neither the name nor the email (nor any part carrying the token) is anywhere else.
        Assert.DoesNotContain(_capture.Logs, l => l.Contains(_token, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(_capture.Spans, s => s.Contains(_token, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(_capture.Measurements, m => m.Contains(_token, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(_token, metrics, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<HttpStatusCode> PostAsync(string name, string email, params (string Name, byte[] Content)[] files)
    {
        using var content = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new StringContent(email), "email" },
        };
        foreach (var (fileName, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "ecg", fileName);
        }

        using var response = await _client.PostAsync("/api/v1/predictions", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(_token, body, StringComparison.OrdinalIgnoreCase); // error messages never echo them either
        return response.StatusCode;
    }
}
