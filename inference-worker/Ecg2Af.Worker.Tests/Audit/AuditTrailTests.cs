using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ecg2Af.Audit;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Worker.Tests.Audit;

/// <summary>The audit test classes share the machine's two cores: run them one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class AuditClusters
{
    public const string Name = "audit clusters";
}

[Collection(AuditClusters.Name)]
public sealed class SqliteAuditTrailTests(SqliteAuditClusterFixture fixture)
    : AuditTrailTests<SqliteAuditClusterFixture>(fixture), IClassFixture<SqliteAuditClusterFixture>;

[Collection(AuditClusters.Name)]
public sealed class PostgresAuditTrailTests(PostgresAuditClusterFixture fixture)
    : AuditTrailTests<PostgresAuditClusterFixture>(fixture), IClassFixture<PostgresAuditClusterFixture>;

/// <summary>
/// The audit trail through real processes: the gateway, two workers sharing one store (SQLite file or PostgreSQL
/// server), and the store read back from the test.
/// </summary>
public abstract class AuditTrailTests<TFixture>(TFixture fixture)
    where TFixture : AuditClusterFixture
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(120) };

    private static readonly IReadOnlyList<UploadFile>[] Inputs =
    [
        [Sample("muse-xml", "muse-sinus.xml")],
        [Sample("hl7-aecg", "Example_aECG.xml")],
        [Sample("wfdb", "muse-af.hea"), Sample("wfdb", "muse-af.dat")],
        [new UploadFile("notes.txt", Encoding.UTF8.GetBytes("Shopping list: milk, eggs, bread.\n"))],
    ];

    private LocalCluster.LocalCluster Cluster => fixture.Cluster;

    private Uri GatewayPredictions => new(Cluster.GatewayUrl, "/api/v1/predictions");

    [Fact]
    public async Task ConcurrentRequests_ThroughGateway_ExactlyOneRecordEachWithHashesAndClientAddress()
    {
        // Both workers in rotation first: a test before this one may have killed one, or had both answer 503 (the
        // store down), and the gateway's health checks take a worker back a little after it is ready again.
        await Cluster.WaitUntilWorkersAvailableAsync();
        const int n = 12;
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var run = Guid.NewGuid().ToString("N")[..8];
        var sent = await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
        {
            var address = LoopbackClients.Address(40 + i);
            using var client = LoopbackClients.Create(address, TimeSpan.FromSeconds(120));
            var files = Inputs[i % Inputs.Length];
            var person = ($"Audit Client {i} {run}", $"client{i}.{run}@example.org");
            using var response = await client.PostAsync(GatewayPredictions, Upload(files, person.Item1, person.Item2));
            var body = await response.Content.ReadAsStringAsync();
            return new Sent(address, files, person.Item1, person.Item2, (int)response.StatusCode, AuditId(response),
                response.Headers.GetValues("X-Ecg2Af-Worker").Single(), body);
        }));

        await using var store = fixture.OpenStore();
        var records = await store.QueryAsync(new AuditQuery(From: since, Limit: 10_000));
        var mine = records.Where(r => r.Email is not null && r.Email.EndsWith($".{run}@example.org", StringComparison.Ordinal)).ToList();

        Assert.Equal(n, sent.Select(s => s.AuditId).Distinct().Count());
        Assert.Equal(n, mine.Count);
        Assert.Equal(sent.Select(s => s.AuditId).Order(), mine.Select(r => r.RequestId).Order());
        Assert.True(sent.Select(s => s.Worker).Distinct().Count() > 1, "the clients should have been spread over both workers");
        foreach (var s in sent)
        {
            var record = mine.Single(r => r.RequestId == s.AuditId);
            Assert.Equal(s.Name, record.Name);
            Assert.Equal(s.Address.ToString(), record.ClientIp);
            Assert.Equal(s.Status, record.StatusCode);
            Assert.Equal(s.Worker, record.Worker);
            Assert.Equal("predict", record.Operation);
            Assert.Equal(s.Files.Select(f => (f.Name, (long)f.Content.Length, Sha256(f.Content))),
                record.Files.Select(f => (f.Name, f.Size, f.Sha256)));
            Assert.True(record.LatencyMs > 0);
            if (s.Files[0].Name == "notes.txt")
            {
                Assert.True(s.Status is 415 or 422, s.Body);
                Assert.Null(record.Result);
                Assert.NotNull(record.Error);
                continue;
            }

            Assert.Equal(200, s.Status);
            using var json = JsonDocument.Parse(s.Body);
            var model = json.RootElement.GetProperty("model");
            Assert.Equal(json.RootElement.GetProperty("id").GetString(), record.RequestId);
            Assert.Equal(json.RootElement.GetProperty("input").GetProperty("format").GetString(), record.Format);
            Assert.Equal(model.GetProperty("name").GetString(), record.ModelName);
            Assert.Equal(model.GetProperty("version").GetString(), record.ModelVersion);
            Assert.Equal(model.GetProperty("sha256").GetString(), record.ModelSha256);
            Assert.Equal(model.GetProperty("execution_provider").GetString(), record.ExecutionProvider);
            using var result = JsonDocument.Parse(record.Result!);
            Assert.Equal(json.RootElement.GetProperty("result").GetProperty("af_risk").GetProperty("probability").GetDouble(),
                result.RootElement.GetProperty("af_risk").GetDouble());
        }
    }

    [Fact]
    public async Task WorkerKilledRightAfterResponse_RecordIsCommittedAndReadable()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var files = Inputs[2];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Cluster.WorkerUrls[0], "/api/v1/predictions"))
        {
            Content = Upload(files, $"Killed Worker {run}", $"killed.{run}@example.org"),
        };
        var killed = false;
        try
        {
            string id;
            // SIGKILL as soon as the status line and headers arrive, before the body is read.
            using (var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
            {
                await Cluster.KillWorkerAsync(0);
                killed = true;
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                id = AuditId(response);
            }

            await using var store = fixture.OpenStore();
            var record = (await store.QueryAsync(new AuditQuery(Email: $"killed.{run}@example.org"))).Single();
            Assert.Equal(id, record.RequestId);
            Assert.Equal(200, record.StatusCode);
            Assert.Equal($"Killed Worker {run}", record.Name);
            Assert.Equal(files.Select(f => Sha256(f.Content)), record.Files.Select(f => f.Sha256));
            Assert.Equal("wfdb", record.Format);
        }
        finally
        {
            if (killed)
            {
                await Cluster.RestartWorkerAsync(0);
            }
        }
    }

    [Fact]
    public async Task StoreDown_Prediction503WithoutResult_NothingRecorded_ThenServesAgain()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var email = $"down.{run}@example.org";
        string refusedId;
        await using (await fixture.TakeStoreDownAsync())
        {
            using var response = await Client.PostAsync(GatewayPredictions, Upload(Inputs[0], $"Store Down {run}", email));
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.RetryAfter);
            using var problem = JsonDocument.Parse(body);
            Assert.Equal("Audit trail unavailable", problem.RootElement.GetProperty("title").GetString());
            Assert.False(problem.RootElement.TryGetProperty("result", out _));
            Assert.DoesNotContain("af_risk", body, StringComparison.Ordinal);
            Assert.DoesNotContain("survival", body, StringComparison.Ordinal);
            refusedId = AuditId(response);
        }

        // Back up: served again (PostgreSQL's pool may need a try or two to drop connections the restart cut).
        HttpStatusCode status = 0;
        for (var attempt = 0; attempt < 10 && status != HttpStatusCode.OK; attempt++)
        {
            using var again = await Client.PostAsync(GatewayPredictions, Upload(Inputs[0], $"Store Up {run}", email));
            status = again.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(500);
            }
        }

        Assert.Equal(HttpStatusCode.OK, status);
        await using var store = fixture.OpenStore();
        var records = await store.QueryAsync(new AuditQuery(Email: email));
        Assert.DoesNotContain(records, r => r.RequestId == refusedId);
        Assert.Contains(records, r => r.StatusCode == 200 && r.Name == $"Store Up {run}");
    }

    [Fact]
    public async Task AuditEndpoint_KeyRequired_FiltersByTimeAndEmail_JsonAndCsv()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var email = $"query.{run}@example.org";
        using (var ok = await Client.PostAsync(GatewayPredictions, Upload(Inputs[1], $"Query Person {run}", email)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var other = await Client.PostAsync(GatewayPredictions, Upload(Inputs[0], $"Other Person {run}", $"other.{run}@example.org")))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        var from = Uri.EscapeDataString(since.ToString("O", CultureInfo.InvariantCulture));
        var audit = new Uri(Cluster.GatewayUrl, $"/api/v1/audit?from={from}");
        using (var noKey = await Client.GetAsync(audit))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        }

        using (var wrongKey = await Client.SendAsync(AuditRequest(audit, key: "e2a_not-the-key-0123456789")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        }

        using (var json = await Client.SendAsync(AuditRequest(audit, email: email.ToUpperInvariant())))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
            using var page = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
            var record = Assert.Single(page.RootElement.GetProperty("records").EnumerateArray());
            Assert.Equal(email, record.GetProperty("email").GetString());
            Assert.Equal($"Query Person {run}", record.GetProperty("name").GetString());
            Assert.Equal(Sha256(Inputs[1][0].Content), record.GetProperty("files")[0].GetProperty("sha256").GetString());
            Assert.Equal("hl7-aecg", record.GetProperty("format").GetString());
            Assert.True(record.GetProperty("result").GetProperty("af_risk").GetDouble() is > 0 and < 1);
        }

        using (var csv = await Client.SendAsync(AuditRequest(audit, email: email, accept: "text/csv")))
        {
            Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
            var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(AuditCsv.Header, lines[0]);
            Assert.Single(lines.Skip(1));
            Assert.Contains($"Query Person {run},{email}", lines[1], StringComparison.Ordinal);
        }

        using (var limited = await Client.SendAsync(AuditRequest(new Uri(audit + "&limit=1"))))
        {
            using var page = JsonDocument.Parse(await limited.Content.ReadAsStringAsync());
            Assert.Equal(1, page.RootElement.GetProperty("count").GetInt32());
            Assert.True(page.RootElement.GetProperty("truncated").GetBoolean());
        }

        using var inUrl = await Client.SendAsync(AuditRequest(new Uri(audit + "&email=" + Uri.EscapeDataString(email))));
        Assert.Equal(HttpStatusCode.BadRequest, inUrl.StatusCode);
        using var errors = JsonDocument.Parse(await inUrl.Content.ReadAsStringAsync());
        Assert.Contains("X-Audit-Email", errors.RootElement.GetProperty("errors").GetProperty("email")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OipInferAndPreprocess_WithKeyThroughGateway_OneRecordEachNamingTheKeyId()
    {
        using var client = Cluster.ApiKey.Authorize(LoopbackClients.Create(LoopbackClients.Address(90), TimeSpan.FromSeconds(120)));
        using var infer = new HttpRequestMessage(HttpMethod.Post, new Uri(Cluster.GatewayUrl, "/v2/models/ecg2af/infer"))
        {
            Content = new ByteArrayContent(new byte[5000 * 12 * 4]),
        };
        infer.Headers.Add("Inference-Header-Content-Length", "0");
        infer.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var inferred = await client.SendAsync(infer);
        var preprocessForm = new MultipartFormDataContent();
        var part = new ByteArrayContent(Inputs[0][0].Content);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        preprocessForm.Add(part, "ecg", Inputs[0][0].Name);
        using var preprocessed = await client.PostAsync(new Uri(Cluster.GatewayUrl, "/api/v1/ecg:preprocess"), preprocessForm);

        Assert.Equal(HttpStatusCode.OK, inferred.StatusCode);
        Assert.Equal(HttpStatusCode.OK, preprocessed.StatusCode);
        await using var store = fixture.OpenStore();
        var records = await store.QueryAsync(new AuditQuery(From: DateTimeOffset.UtcNow.AddMinutes(-10), Limit: 10_000));
        var inferRecord = Assert.Single(records, r => r.RequestId == inferred.Headers.GetValues("X-Ecg2Af-Audit-Id").Single());
        var preprocessRecord = Assert.Single(records, r => r.RequestId == preprocessed.Headers.GetValues("X-Ecg2Af-Audit-Id").Single());
        Assert.Equal(("infer", Cluster.ApiKey.Id, 200), (inferRecord.Operation, inferRecord.KeyId, inferRecord.StatusCode));
        Assert.Equal("ecg2af", inferRecord.ModelName);
        Assert.Equal(("preprocess", Cluster.ApiKey.Id, "ge-muse-xml"), (preprocessRecord.Operation, preprocessRecord.KeyId, preprocessRecord.Format));
        Assert.Equal(Sha256(Inputs[0][0].Content), Assert.Single(preprocessRecord.Files).Sha256);
    }

    [Fact]
    public async Task Store_Query_FromInclusiveToExclusiveEmailIgnoresCaseOldestFirst()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // Recent enough for the fixture's retention (Audit:RetentionDays); microseconds survive the round trip.
        var t0 = AuditRecord.StoreTime(DateTimeOffset.UtcNow.AddDays(-2));
        await using var store = fixture.OpenStore();
        for (var i = 0; i < 4; i++)
        {
            await store.WriteAsync(new AuditRecord
            {
                RequestId = $"{run}-{i}",
                Time = t0.AddMinutes(i),
                Operation = "predict",
                Email = i % 2 == 0 ? $"Even.{run}@Example.org" : $"odd.{run}@example.org",
                Name = $"Person {i}",
                Files = [new AuditFile("a.xml", 10 + i, new string('a', 64))],
                StatusCode = 200,
                LatencyMs = 1.5,
            });
        }

        var range = await store.QueryAsync(new AuditQuery(From: t0.AddMinutes(1), To: t0.AddMinutes(3)));
        var even = await store.QueryAsync(new AuditQuery(Email: $"even.{run}@example.ORG"));

        Assert.Equal([$"{run}-1", $"{run}-2"], range.Select(r => r.RequestId));
        Assert.Equal([$"{run}-0", $"{run}-2"], even.Select(r => r.RequestId));
        Assert.Equal(t0, even[0].Time);
        Assert.Equal(12, even[1].Files.Single().Size);
    }

    [Fact]
    public async Task Retention_RecordsOlderThanRetentionDays_DeletedByTheWorkersAndCounted()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var now = DateTimeOffset.UtcNow;
        await using var store = fixture.OpenStore();
        foreach (var (id, age) in new[] { ("expired", 400), ("kept", AuditClusterFixture.RetentionDays - 1) })
        {
            await store.WriteAsync(new AuditRecord
            {
                RequestId = $"{run}-{id}",
                Time = now.AddDays(-age),
                Operation = "predict",
                Email = $"retention.{run}@example.org",
                StatusCode = 200,
                LatencyMs = 1,
            });
        }

        // The workers' job runs every second (Audit:RetentionInterval in the fixture).
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        IReadOnlyList<AuditRecord> left;
        do
        {
            await Task.Delay(200, cts.Token);
            left = await store.QueryAsync(new AuditQuery(Email: $"retention.{run}@example.org"), cts.Token);
        }
        while (left.Count > 1);

        Assert.Equal([$"{run}-kept"], left.Select(r => r.RequestId));
        var deleted = 0.0;
        foreach (var worker in Cluster.WorkerUrls)
        {
            deleted += MetricValue(await Client.GetStringAsync(new Uri(worker, "/metrics"), cts.Token),
                $"ecg2af_audit_records_deleted_total{{store=\"{fixture.StoreKind}\",reason=\"retention\"}}");
        }

        Assert.True(deleted >= 1, $"retention deletions counted: {deleted}");
    }

    [Fact]
    public async Task Erase_ByEmailInHeaderOrBody_DeletesOnlyThatPersonsRecordsAndRecordsTheErasureWithoutTheAddress()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var email = $"erase.{run}@example.org";
        var other = $"keep.{run}@example.org";
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var (person, input) in new[] { (email, 0), (email, 1), (other, 0) })
        {
            using var ok = await Client.PostAsync(GatewayPredictions, Upload(Inputs[input], $"Person {run}", person));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var erase = new Uri(Cluster.GatewayUrl, "/api/v1/audit/erasures");
        using (var noKey = await Client.PostAsync(erase, null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        }

        using (var inUrl = await Client.SendAsync(EraseRequest(new Uri(erase + "?email=" + Uri.EscapeDataString(email)))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, inUrl.StatusCode);
        }

        using (var noEmail = await Client.SendAsync(EraseRequest(erase)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noEmail.StatusCode);
        }

        string erasureId;
        using (var erased = await Client.SendAsync(EraseRequest(erase, header: email.ToUpperInvariant())))
        {
            Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
            using var body = JsonDocument.Parse(await erased.Content.ReadAsStringAsync());
            Assert.Equal(2, body.RootElement.GetProperty("erased").GetInt32());
            erasureId = body.RootElement.GetProperty("request_id").GetString()!;
            Assert.DoesNotContain(email, await erased.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        // The same through the JSON body: nothing left to erase, and recorded too.
        using (var again = await Client.SendAsync(EraseRequest(erase, json: email)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            using var body = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
            Assert.Equal(0, body.RootElement.GetProperty("erased").GetInt32());
        }

        await using var store = fixture.OpenStore();
        Assert.Empty(await store.QueryAsync(new AuditQuery(Email: email)));
        Assert.Single(await store.QueryAsync(new AuditQuery(Email: other)));
        var erasure = Assert.Single(await store.QueryAsync(new AuditQuery(From: since, Limit: 100_000)), r => r.RequestId == erasureId);
        Assert.Equal("audit-erase", erasure.Operation);
        Assert.Null(erasure.Email);
        Assert.Null(erasure.Name);
        Assert.Equal(Cluster.ApiKey.Id, erasure.KeyId);
        // The store keeps the summary as JSON (PostgreSQL normalises its spacing): compare the value, not the text.
        using var summary = JsonDocument.Parse(erasure.Result!);
        Assert.Equal(2, summary.RootElement.GetProperty("erased").GetInt32());
    }

    private HttpRequestMessage EraseRequest(Uri uri, string? header = null, string? json = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri);
        request.Headers.Add("X-Api-Key", Cluster.ApiKey.Key);
        if (header is not null)
        {
            request.Headers.Add("X-Audit-Email", header);
        }

        if (json is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(new { email = json }), Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>The value of one series in Prometheus text, 0 when absent.</summary>
    private static double MetricValue(string text, string series) =>
        text.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..].Split(' ')[0], CultureInfo.InvariantCulture)).FirstOrDefault();

        private HttpRequestMessage AuditRequest(Uri uri, string? key = null, string? email = null, string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Add("X-Api-Key", key ?? Cluster.ApiKey.Key);
        if (email is not null)
        {
            request.Headers.Add("X-Audit-Email", email);
        }

        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }

        return request;
    }

    private static string AuditId(HttpResponseMessage response) => response.Headers.GetValues("X-Ecg2Af-Audit-Id").Single();

    private static UploadFile Sample(params string[] path) =>
        new(path[^1], File.ReadAllBytes(RepositoryLayout.SharedFile(["ecg-samples", .. path])));

    private static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private static MultipartFormDataContent Upload(IReadOnlyList<UploadFile> files, string name, string email)
    {
        var content = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new StringContent(email), "email" },
        };
        foreach (var file in files)
        {
            var part = new ByteArrayContent(file.Content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "ecg", file.Name);
        }

        return content;
    }

    private sealed record UploadFile(string Name, byte[] Content);

    private sealed record Sent(
        IPAddress Address, IReadOnlyList<UploadFile> Files, string Name, string Email, int Status, string AuditId, string Worker, string Body);
}
