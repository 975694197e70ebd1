using System.Diagnostics;
using Ecg2Af.LocalCluster;
using Xunit.Abstractions;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// The gateway's warm-up against real workers: it is ready only after its own inference requests went the client's
/// way (key check, rate limiter, forward to a worker and back), and a gateway whose workers are missing still comes
/// up, cold, once its wait for them runs out.
/// </summary>
[Collection(ClusterCollection.Name)]
public class GatewayWarmUpTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Ready_AfterStart_WarmUpRoundsAlreadyForwardedAndAnswered()
    {
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__WarmUp__Concurrency"] = "3",

            // An h2c-only gRPC listener beside the HTTP one, as the AppHost runs it: the warm-up finds the one that answers.
            ["Gateway__GrpcPort"] = LocalCluster.LocalCluster.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // Ready means warmed: at least three rounds of 3 inference and 12 metadata requests were answered 200 before
        // readiness (nobody else has called this gateway), and the log says how many.
        var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
        output.WriteLine(gateway.Output);
        var proxied = ("endpoint", "/v2/{**catch-all}");
        var inferences = metrics.Value("http_request_duration_seconds_count", ("code", "200"), ("method", "POST"), proxied);
        var lookups = metrics.Value("http_request_duration_seconds_count", ("code", "200"), ("method", "GET"), proxied);
        Assert.True(inferences >= 9 && inferences % 3 == 0, $"{inferences} inference requests");
        Assert.Equal(4 * inferences + 1, lookups); // and the first metadata request, which found the input's shape
        Assert.Equal(0, metrics.Value("ecg2af_gateway_rejected_requests_total"));
        Assert.Contains($"Warmed up with {inferences} inference and {4 * inferences} metadata requests to ecg2af through the gateway in {inferences / 3} rounds",
            gateway.Output, StringComparison.Ordinal);

        // The key it used was its own, made at start-up: no key text in its output.
        Assert.DoesNotContain(Ecg2Af.Security.ApiKeyGenerator.Prefix, gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_NoWorkerAnswers_ReadyColdOnceTheWaitRunsOut()
    {
        var dead = new Uri($"http://127.0.0.1:{LocalCluster.LocalCluster.FreePort()}/");
        var started = Stopwatch.GetTimestamp();
        await using var gateway = await fixture.Cluster.StartGatewayAsync(
            new Dictionary<string, string>
            {
                [LocalCluster.LocalCluster.DestinationAddressKey("gone")] = dead.ToString(),
                ["Gateway__WarmUp__WorkerWait"] = "00:00:03",
            },
            withWorkerDestinations: false);
        var elapsed = Stopwatch.GetElapsedTime(started);

        output.WriteLine(gateway.Output);
        Assert.Contains("Gateway warm-up did not run", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("until the 3 s wait for a worker ran out", gateway.Output, StringComparison.Ordinal);
        Assert.True(elapsed >= TimeSpan.FromSeconds(3), $"ready after {elapsed}, before the wait ran out");

        // Ready cold: the gateway answers, with a ProblemDetails 5xx for the missing workers, not a refused connection.
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(gateway.Url, "/v2/health/ready"));
        Assert.True((int)response.StatusCode >= 500, $"{response.StatusCode}");
    }
}
