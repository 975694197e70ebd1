using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Ecg2Af.Audit;
using Ecg2Af.LocalCluster;
using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// Issue #13, API keys through real processes: the gateway refuses anonymous and wrong keys at the edge, forwards
/// only the verified key id, limits each key by its own bucket, and the workers audit every inference route with
/// the key id; a worker port called directly is no anonymous way around it.
/// </summary>
[Collection(ClusterCollection.Name)]
public class ApiKeyTests(ClusterFixture fixture)
{
    private const string ProblemJson = "application/problem+json";

    private LocalCluster.LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task OipInfer_Anonymous401_WrongKey401_Key200WithOneAuditRecordNamingTheKey()
    {
        using var anonymous = LoopbackClients.Create(LoopbackClients.Address(150));
        using (var response = await anonymous.SendAsync(ZeroInference(Cluster.GatewayUrl)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
            Assert.Null(Load.Worker(response)); // refused at the edge
        }

        var wrong = ApiKeyGenerator.Create();
        using (var request = ZeroInference(Cluster.GatewayUrl))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", wrong);
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.DoesNotContain(wrong, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var request = ZeroInference(Cluster.GatewayUrl))
        {
            // A client cannot name a key by sending the gateway's own header.
            request.Headers.Add(ApiKeyCredentials.KeyIdHeader, Cluster.ApiKey.Id);
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var ok = await fixture.Clients[151].SendAsync(ZeroInference(Cluster.GatewayUrl));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.NotNull(Load.Worker(ok));
        var record = await SingleRecordAsync(ok);
        Assert.Equal("infer", record.Operation);
        Assert.Equal(Cluster.ApiKey.Id, record.KeyId);
        Assert.Equal(200, record.StatusCode);
        Assert.Equal("ecg2af", record.ModelName);
        Assert.Null(record.Email);
        Assert.Equal(LoopbackClients.Address(151).ToString(), record.ClientIp);
        Assert.DoesNotContain(await ReadAuditFileAsync(), r => r.KeyId is { } id && id.Contains(Cluster.ApiKey.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Preprocess_WithKey_AuditedWithKeyId_FormWithForgedKeyHeader_AuditedWithoutOne()
    {
        using var response = await fixture.Clients[152].PostAsync(Load.PreprocessUrl(Cluster.GatewayUrl), Load.PreprocessMv());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await SingleRecordAsync(response);
        Assert.Equal("preprocess", record.Operation);
        Assert.Equal(Cluster.ApiKey.Id, record.KeyId);
        Assert.Equal(["00001_lr.hea", "00001_lr.dat"], record.Files.Select(f => f.Name));

        // The web form without a key: served, and a forged key-id header does not reach the worker.
        using var anonymous = LoopbackClients.Create(LoopbackClients.Address(153));
        using var form = new HttpRequestMessage(HttpMethod.Post, Load.PredictionsUrl(Cluster.GatewayUrl)) { Content = Load.NotAnEcgPrediction() };
        form.Headers.Add(ApiKeyCredentials.KeyIdHeader, Cluster.ApiKey.Id);
        using var refused = await anonymous.SendAsync(form);
        Assert.True(Load.RefusedByWorker(refused), $"{(int)refused.StatusCode}");
        var formRecord = await SingleRecordAsync(refused);
        Assert.Equal("predict", formRecord.Operation);
        Assert.Null(formRecord.KeyId);
        Assert.Equal("test@example.org", formRecord.Email);
    }

    [Fact]
    public async Task PerKeyRateLimit_429WithRetryAfter_AcrossClientAddresses_OtherKeyUnaffected()
    {
        var limited = TestApiKey.Create("limited", permitsPerSecond: 0.01, burst: 2);
        await using var gateway = await Cluster.StartGatewayAsync(limited.Settings(1));
        await fixture.WaitUntilAllAvailableAsync(gateway.Url);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            // A different client address each time: the bucket is the key's, not the address's.
            using var client = limited.Authorize(LoopbackClients.Create(LoopbackClients.Address(160 + i)));
            using var response = await client.GetAsync(new Uri(gateway.Url, "/v2/models/ecg2af"));
            statuses.Add(response.StatusCode);
            if (i == 2)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                var retryAfter = long.Parse(response.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
                Assert.InRange(retryAfter, 1, 100);
                Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
                Assert.Contains("'limited'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        using var other = await fixture.Clients[163].GetAsync(new Uri(gateway.Url, "/v2/models/ecg2af"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task AuditApi_PredictOnlyKey403_AdminKey200()
    {
        var predictOnly = TestApiKey.Create("predict-only");
        await using var gateway = await Cluster.StartGatewayAsync(predictOnly.Settings(1));
        using var client = predictOnly.Authorize(LoopbackClients.Create(LoopbackClients.Address(165)));
        using var forbidden = await client.GetAsync(new Uri(gateway.Url, "/api/v1/audit?limit=1"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Null(Load.Worker(forbidden));

        using var allowed = await fixture.Clients[166].GetAsync(new Uri(gateway.Url, "/api/v1/audit?limit=1"));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task WorkerDirectly_Anonymous401_ForgedKeyIdFromUntrustedAddressIgnored_OwnKeyChecked()
    {
        var worker = Cluster.WorkerUrls[0];
        using var outsider = LoopbackClients.Create(LoopbackClients.Address(170)); // 127.0.1.x: not a trusted proxy
        using (var response = await outsider.SendAsync(ZeroInference(worker)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }

        using (var forged = ZeroInference(worker))
        {
            forged.Headers.Add(ApiKeyCredentials.KeyIdHeader, Cluster.ApiKey.Id);
            using var response = await outsider.SendAsync(forged);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var keyed = Cluster.ApiKey.Authorize(ZeroInference(worker)))
        {
            using var response = await outsider.SendAsync(keyed);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var record = await SingleRecordAsync(response);
            Assert.Equal(Cluster.ApiKey.Id, record.KeyId);
            Assert.Equal(LoopbackClients.Address(170).ToString(), record.ClientIp);
        }
    }

    /// <summary>Raw binary OIP inference of one all-zero input (5000 × 12 FP32, no JSON header).</summary>
    private static HttpRequestMessage ZeroInference(Uri server)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, "/v2/models/ecg2af/infer"))
        {
            Content = new ByteArrayContent(new byte[5000 * 12 * 4]),
        };
        request.Headers.Add("Inference-Header-Content-Length", "0");
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return request;
    }

    /// <summary>The one record whose id the response names in X-Ecg2Af-Audit-Id.</summary>
    private async Task<AuditRecord> SingleRecordAsync(HttpResponseMessage response)
    {
        var id = Assert.Single(response.Headers.GetValues("X-Ecg2Af-Audit-Id"));
        return Assert.Single(await ReadAuditFileAsync(), r => r.RequestId == id);
    }

    private Task<IReadOnlyList<AuditRecord>> ReadAuditFileAsync() => ReadAuditFileAsync(Cluster);

    /// <summary>The cluster's audit records of the last half hour, read from the workers' SQLite file.</summary>
    internal static async Task<IReadOnlyList<AuditRecord>> ReadAuditFileAsync(LocalCluster.LocalCluster cluster)
    {
        await using var store = new SqliteAuditStore(cluster.AuditSqlitePath!, TimeSpan.FromSeconds(10));
        return await store.QueryAsync(new AuditQuery(From: DateTimeOffset.UtcNow.AddMinutes(-30), Limit: 100_000));
    }
}
