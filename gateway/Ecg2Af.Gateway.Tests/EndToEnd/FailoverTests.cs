using System.Diagnostics;
using System.Net;
using Ecg2Af.LocalCluster;
using Xunit.Abstractions;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>Issue #6 acceptance: a killed worker, a worker answering 503, and what is never retried.</summary>
[Collection(ClusterCollection.Name)]
public class FailoverTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const int Victim = 1;

    [Fact]
    public async Task KillWorker_UnderSteadyLoad_NoFailedRequestsOnlyItsClientsMoveAndTheyReturn()
    {
        var homes = await fixture.HomesAsync();
        var victim = LocalCluster.LocalCluster.WorkerId(Victim);
        var victimClients = Enumerable.Range(0, homes.Count).Where(c => homes[c] == victim).ToHashSet();
        var seen = Enumerable.Range(0, homes.Count).Select(_ => new HashSet<string>()).ToArray();
        var failures = new List<string>();
        var rounds = 0;
        var allHomeAfterRestart = false;
        var restarted = false;
        using var stop = new CancellationTokenSource();
        var retriesBefore = (await PrometheusText.ScrapeAsync(fixture.Gateway)).Value("ecg2af_gateway_retries_total", ("destination", victim));

        // Steady load: round after round of one request per client, recording who answered. The request is an
        // upload the worker refuses with a small 415: once a worker has started a response body, nothing can hide
        // its death mid-body (failover never retries after a response started), so the short answer keeps the
        // test about failover rather than about where in a long body the kill lands.
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var wasRestarted = Volatile.Read(ref restarted);
                var round = await Load.RoundAsync(fixture.Clients, fixture.Gateway, Load.NotAnEcgPrediction,
                    path: "/api/v1/predictions", expected: Load.RefusedByWorker);
                lock (failures)
                {
                    failures.AddRange(round.Failures);
                    for (var c = 0; c < round.Workers.Count; c++)
                    {
                        if (round.Workers[c] is { } worker)
                        {
                            seen[c].Add(worker);
                        }
                    }
                }

                if (wasRestarted && round.Failures.Count == 0 && round.Workers.SequenceEqual(homes))
                {
                    Volatile.Write(ref allHomeAfterRestart, true);
                }

                Interlocked.Increment(ref rounds);
            }
        });

        try
        {
            await WaitForRoundsAsync(() => Volatile.Read(ref rounds), 1);
            await fixture.Cluster.KillWorkerAsync(Victim);
            var afterKill = Volatile.Read(ref rounds);
            await WaitForRoundsAsync(() => Volatile.Read(ref rounds), afterKill + 3);

            await fixture.Cluster.RestartWorkerAsync(Victim);
            Volatile.Write(ref restarted, true);
            var deadline = Stopwatch.StartNew();
            while (!Volatile.Read(ref allHomeAfterRestart) && deadline.Elapsed < TimeSpan.FromSeconds(60) && !load.IsCompleted)
            {
                await Task.Delay(200);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await load;
        }

        var retried = (await PrometheusText.ScrapeAsync(fixture.Gateway)).Value("ecg2af_gateway_retries_total", ("destination", victim)) - retriesBefore;
        output.WriteLine($"{Volatile.Read(ref rounds)} rounds of {homes.Count} requests, {failures.Count} failed; {victimClients.Count} clients on {victim}; {retried} attempts at it retried elsewhere");
        Assert.Empty(failures);
        Assert.True(retried > 0, "no request was retried: the kill did not meet the load");
        Assert.True(allHomeAfterRestart, "the killed worker's clients did not all return after it was ready again");
        var moved = Enumerable.Range(0, homes.Count).Where(c => seen[c].Count > 1).ToHashSet();
        Assert.Equal(victimClients.Order(), moved.Order()); // the victim's clients moved, and no one else
        Assert.True(moved.Count <= (1.0 / 3 + 0.05) * homes.Count, $"{moved.Count} of {homes.Count} clients changed worker");
        // Each moved client went to one worker only: its next-ranked one.
        Assert.All(moved, c => Assert.Equal(2, seen[c].Count));
    }

    [Fact]
    public async Task WorkerAnswering503_TakenOutWithinThePassiveWindow_ItsClientsStillServed()
    {
        var homes = await fixture.HomesAsync();
        const int stuck = 2;
        var stuckId = LocalCluster.LocalCluster.WorkerId(stuck);
        var clients = Enumerable.Range(0, homes.Count).Where(c => homes[c] == stuckId).Take(6).Select(c => fixture.Clients[c]).ToArray();
        var window = TimeSpan.FromSeconds(10);
        var repository = StuckModelRepository(fixture.Cluster.ModelRepository);
        try
        {
            await fixture.Cluster.KillWorkerAsync(stuck);
            await fixture.Cluster.RestartWorkerAsync(stuck, new Dictionary<string, string> { ["Model__RepositoryPath"] = repository }, waitUntilReady: false);

            // A real worker that is up but whose model never finishes loading: it answers 503 itself.
            using (var direct = await new HttpClient().PostAsync(Load.PredictionsUrl(fixture.Cluster.WorkerUrls[stuck]), Load.Prediction()))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, direct.StatusCode);
            }

            // Only passive health can see it here: this gateway does no active checks.
            await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
            {
                ["ReverseProxy__Clusters__workers__HealthCheck__Active__Enabled"] = "false",
                ["ReverseProxy__Clusters__workers__HealthCheck__Passive__ReactivationPeriod"] = "00:01:00",
                ["Gateway__PassiveHealth__DetectionWindow"] = "00:00:10",
                ["Gateway__PassiveHealth__MinimalTotalCount"] = "3",
                ["Gateway__PassiveHealth__FailureRateLimit"] = "0.5",
            });

            // One burst from the stuck worker's clients; meanwhile watch the gateway's view of it.
            var sinceFirst = Stopwatch.StartNew();
            var burst = Task.WhenAll(clients.Select(c => AssertServedElsewhereAsync(c, gateway.Url, stuckId)));
            var outOfRotation = false;
            while (!outOfRotation && sinceFirst.Elapsed < window + TimeSpan.FromSeconds(10))
            {
                var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
                outOfRotation = metrics.Value("ecg2af_gateway_destination_health", ("destination", stuckId), ("check", "passive"), ("state", "unhealthy")) == 1;
                if (!outOfRotation)
                {
                    await Task.Delay(50);
                }
            }

            var detectedAfter = sinceFirst.Elapsed;
            await burst;
            output.WriteLine($"{stuckId} out of rotation after {detectedAfter.TotalSeconds:0.00} s (window {window.TotalSeconds} s)");
            Assert.True(outOfRotation, $"{stuckId} still in rotation after {detectedAfter}");
            Assert.True(detectedAfter <= window, $"taken out after {detectedAfter}, window {window}");

            // Out of rotation: its clients go straight to their next-ranked worker, no attempt reaches it any more.
            var before = await PrometheusText.ScrapeAsync(gateway.Url);
            Assert.True(before.Value("ecg2af_gateway_retries_total", ("destination", stuckId), ("reason", "http_503")) >= 3);
            foreach (var client in clients)
            {
                await AssertServedElsewhereAsync(client, gateway.Url, stuckId);
            }

            var after = await PrometheusText.ScrapeAsync(gateway.Url);
            Assert.Equal(
                before.Value("ecg2af_gateway_upstream_requests_total", ("destination", stuckId)),
                after.Value("ecg2af_gateway_upstream_requests_total", ("destination", stuckId)));
        }
        finally
        {
            await fixture.RestoreWorkerAsync(stuck);
            Directory.Delete(repository, recursive: true);
        }
    }

    [Fact]
    public async Task Worker4xx_PassedThroughOnceAndNeverRetried()
    {
        await fixture.WaitUntilAllAvailableAsync(fixture.Gateway);
        var client = fixture.Clients[7];
        var before = await PrometheusText.ScrapeAsync(fixture.Gateway);
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent("Shopping list: milk, eggs.\n"u8.ToArray()), "ecg", "notes.txt" },
            { new StringContent("Test"), "name" },
            { new StringContent("test@example.org"), "email" },
        };

        using var response = await client.PostAsync(Load.PredictionsUrl(fixture.Gateway), content);

        Assert.True(response.StatusCode is HttpStatusCode.UnsupportedMediaType or HttpStatusCode.UnprocessableEntity, response.StatusCode.ToString());
        var worker = Load.Worker(response)!;
        var after = await PrometheusText.ScrapeAsync(fixture.Gateway);
        Assert.Equal(before.Value("ecg2af_gateway_retries_total"), after.Value("ecg2af_gateway_retries_total"));
        Assert.Equal(1, after.Value("ecg2af_gateway_upstream_requests_total", ("destination", worker), ("code", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)))
            - before.Value("ecg2af_gateway_upstream_requests_total", ("destination", worker), ("code", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    private static async Task AssertServedElsewhereAsync(HttpClient client, Uri gateway, string notWorker)
    {
        using var response = await client.PostAsync(Load.PredictionsUrl(gateway), Load.Prediction());
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.NotEqual(notWorker, Load.Worker(response));
        Assert.Contains("\"af_risk\"", body, StringComparison.Ordinal);
    }

    private static async Task WaitForRoundsAsync(Func<int> rounds, int atLeast)
    {
        var deadline = Stopwatch.StartNew();
        while (rounds() < atLeast)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "load rounds stalled");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A model repository whose <c>model.onnx</c> is a named pipe nobody writes to: the worker starts, listens and
    /// then waits forever reading the model, the state of a worker loading a large model from a slow disk.
    /// </summary>
    private static string StuckModelRepository(string realRepository)
    {
        var version = Directory.CreateTempSubdirectory("ecg2af-stuck-").FullName;
        var versionDirectory = Path.Combine(version, "ecg2af", "1");
        Directory.CreateDirectory(versionDirectory);
        File.Copy(Path.Combine(realRepository, "ecg2af", "1", "model.json"), Path.Combine(versionDirectory, "model.json"));
        using var mkfifo = Process.Start("mkfifo", [Path.Combine(versionDirectory, "model.onnx")]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return version;
    }
}
