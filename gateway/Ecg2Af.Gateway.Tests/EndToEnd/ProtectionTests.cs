using System.Globalization;
using System.Net;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>Issue #6 acceptance: rate limit (429), upload limit (413), deadline (504) and concurrency cap (503).</summary>
[Collection(ClusterCollection.Name)]
public class ProtectionTests(ClusterFixture fixture)
{
    private const string ProblemJson = "application/problem+json";

    private static Uri Anonymous(Uri gateway) => new(gateway, "/v2/health/live");

    [Fact]
    public async Task RateLimitedClient_429WithRetryAfter_OtherClientsUnaffected()
    {
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__RateLimit__TokenLimit"] = "3",
            ["Gateway__RateLimit__TokensPerPeriod"] = "1",
            ["Gateway__RateLimit__ReplenishmentPeriod"] = "00:01:00",
        });
        await fixture.WaitUntilAllAvailableAsync(gateway.Url);
        // A route that needs no key (the key these clients send is ignored there), so the client address's bucket applies.
        var greedy = fixture.Clients[10];
        var other = fixture.Clients[11];

        var greedyStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await greedy.GetAsync(Anonymous(gateway.Url));
            greedyStatuses.Add(response.StatusCode);
        }

        using (var limited = await greedy.GetAsync(Anonymous(gateway.Url)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            var retryAfter = long.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60);
            Assert.Equal(ProblemJson, limited.Content.Headers.ContentType?.MediaType);
            Assert.Null(Load.Worker(limited));
        }

        for (var i = 0; i < 3; i++)
        {
            using var response = await other.GetAsync(Anonymous(gateway.Url));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.All(greedyStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
        Assert.Equal(1, metrics.Value("ecg2af_gateway_rejected_requests_total", ("reason", "rate_limited")));
    }

    [Fact]
    public async Task OversizedUpload_413WithoutReachingAWorker()
    {
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__Limits__MaxRequestBodyBytes"] = "65536",
        });
        await fixture.WaitUntilAllAvailableAsync(gateway.Url);
        var client = fixture.Clients[12];
        var oversized = new byte[200_000];
        Random.Shared.NextBytes(oversized);
        var workersBefore = await WorkerPostsAsync();

        // Counted from here: the gateway's warm-up (refused 413 itself under this limit) came before readiness.
        var before = await PrometheusText.ScrapeAsync(gateway.Url);

        using (var declared = await client.PostAsync(Load.PredictionsUrl(gateway.Url), Upload(new ByteArrayContent(oversized))))
        {
            await AssertTooLargeAsync(declared);
        }

        // Chunked: no Content-Length to refuse on, so the limit is found while buffering, still before any worker.
        using (var chunked = await client.PostAsync(Load.PredictionsUrl(gateway.Url), Upload(new StreamContent(new MemoryStream(oversized)))))
        {
            await AssertTooLargeAsync(chunked);
        }

        var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
        Assert.Equal(before.Value("ecg2af_gateway_upstream_requests_total"), metrics.Value("ecg2af_gateway_upstream_requests_total"));
        Assert.Equal(2, metrics.Value("ecg2af_gateway_rejected_requests_total", ("reason", "body_too_large"))
            - before.Value("ecg2af_gateway_rejected_requests_total", ("reason", "body_too_large")));
        Assert.Equal(workersBefore, await WorkerPostsAsync());

        // Under the limit the same route works.
        using var small = await client.PostAsync(Load.PreprocessUrl(gateway.Url), Load.PreprocessMv());
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task RequestPastTheDeadline_504ProblemFromTheGateway()
    {
        // A prediction costs a model run (well over 10 ms), so this deadline always passes while a worker is busy.
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__Limits__RequestTimeout"] = "00:00:00.010",
        });
        await fixture.WaitUntilAllAvailableAsync(gateway.Url);

        // Counted from here: the gateway's warm-up (timed out itself under this deadline) came before readiness.
        var before = await PrometheusText.ScrapeAsync(gateway.Url);
        using var response = await fixture.Clients[13].PostAsync(Load.PredictionsUrl(gateway.Url), Load.Prediction());

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        Assert.Null(Load.Worker(response));
        var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
        Assert.Equal(1, metrics.Value("ecg2af_gateway_rejected_requests_total", ("reason", "timed_out"))
            - before.Value("ecg2af_gateway_rejected_requests_total", ("reason", "timed_out")));
    }

    [Fact]
    public async Task OverTheConcurrencyCap_503WithRetryAfterFromTheGateway()
    {
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__Limits__MaxConcurrentRequests"] = "1",
            ["Gateway__Limits__ConcurrencyQueueLimit"] = "0",
        });
        await fixture.WaitUntilAllAvailableAsync(gateway.Url);

        // Six predictions at once from six clients: one holds the only slot for a whole model run.
        var responses = await Task.WhenAll(Enumerable.Range(20, 6).Select(i => fixture.Clients[i].PostAsync(Load.PredictionsUrl(gateway.Url), Load.Prediction())));
        try
        {
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK && Load.Worker(r) is not null);
            var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            Assert.NotEmpty(busy);
            Assert.All(busy, r =>
            {
                Assert.Null(Load.Worker(r));
                Assert.Equal("1", r.Headers.GetValues("Retry-After").Single());
                Assert.Equal(ProblemJson, r.Content.Headers.ContentType?.MediaType);
            });
            Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    private static MultipartFormDataContent Upload(HttpContent file) => new()
    {
        { file, "ecg", "big.dat" },
        { new StringContent("Test"), "name" },
        { new StringContent("test@example.org"), "email" },
    };

    private static async Task AssertTooLargeAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("65536", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(Load.Worker(response));
    }

    /// <summary>POSTs every worker has received on its prediction route, from the workers' own metrics.</summary>
    private async Task<double> WorkerPostsAsync()
    {
        var total = 0.0;
        foreach (var worker in fixture.Cluster.WorkerUrls)
        {
            var metrics = await PrometheusText.ScrapeAsync(worker);
            total += metrics.Value("http_requests_received_total", ("method", "POST"));
        }

        return total;
    }
}
