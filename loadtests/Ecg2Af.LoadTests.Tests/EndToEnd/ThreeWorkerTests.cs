using Ecg2Af.LoadTests.Commands;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Tests.EndToEnd;

/// <summary>The real gateway in front of three real workers: client spread and the wrk script.</summary>
[Collection(EndToEndCollection.Name)]
public class ThreeWorkerTests(SharedModelRepository shared)
{
    [Fact]
    public async Task Spread_ThreeWorkers200ClientAddresses_LoadOnEveryWorker()
    {
        var cluster = await shared.ThreeWorkersAsync();
        var output = Directory.CreateTempSubdirectory("ecg2af-load-spread-").FullName;
        try
        {
            var options = new LoadRunOptions
            {
                Scenarios = ["spread"],
                Target = cluster.GatewayUrl.ToString(),

                // The cluster's own key: without one the tool falls back to data/dev-api-key, which the README's run
                // command leaves in the checkout and which this cluster does not accept.
                ApiKey = cluster.ApiKey.Key,
                Clients = 200,
                Overrides = new LoadOverrides { Rate = 3, Duration = TimeSpan.FromSeconds(12) },
                Output = output,
            };

            var (exitCode, report, _) = await LoadRun.ExecuteAsync(options, TextWriter.Null, CancellationToken.None);

            var spread = report.Scenarios.Single();
            Assert.True(exitCode == 0, Reporting.ConsoleReport.Render(report));
            Assert.Equal(["worker-0", "worker-1", "worker-2"], spread.Total.Workers.Keys);
            Assert.All(spread.Total.Workers.Values, n => Assert.True(n >= 3, Reporting.Format.Counts(spread.Total.Workers)));
            // The gateway's own per-destination counter agrees: every worker received forwarded requests.
            Assert.NotNull(spread.Gateway);
            Assert.Equal(["worker-0", "worker-1", "worker-2"], spread.Gateway.Attempts.Keys);
            Assert.Equal(spread.Total.Requests, spread.Gateway.Attempts.Values.Sum());
            Assert.All(spread.Gateway.Attempts, p => Assert.Equal(spread.Total.Workers[p.Key], p.Value));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task WrkScript_MultipartUploadThroughGateway_EveryAnswer2xx()
    {
        var cluster = await shared.ThreeWorkersAsync();
        var settings = new WrkCheckSettings(2, TimeSpan.FromSeconds(3), 1, [Payloads.TensorSource], 0.15,
            Path.Combine(RepositoryLayout.Shared, "ecg-samples"), ApiKey: cluster.ApiKey.Key);

        // With the cluster's key wrk draws from that key's bucket, as a load test with its own key would; without
        // one it would share the per-address limit meant for anonymous web-form users (2/s) and see 429s.
        var result = await WrkCheck.RunWrkAsync(new Uri(cluster.GatewayUrl, "/api/v1/predictions"), settings, CancellationToken.None);

        Assert.True(result.Requests >= 1, $"{result.Requests} requests");
        Assert.Equal(0, result.StatusErrors);
        Assert.Equal(0, result.SocketErrors);
    }
}
