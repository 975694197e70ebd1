using System.Globalization;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>Destinations from DNS: one per address of a name, with ids that depend on the address only.</summary>
[Collection(ClusterCollection.Name)]
public class DnsDestinationTests(ClusterFixture fixture)
{
    [Fact]
    public async Task LocalhostDestinations_OnePerAddress_ClientsSpreadAndStick()
    {
        var settings = new Dictionary<string, string>
        {
            ["Gateway__Dns__Enabled"] = "true",
            ["Gateway__Dns__AddressFamily"] = "InterNetwork",
            ["Gateway__Dns__RefreshPeriod"] = "00:00:01",
        };
        for (var i = 0; i < ClusterFixture.WorkerCount; i++)
        {
            settings[LocalCluster.LocalCluster.DestinationAddressKey($"dns-{i}")] =
                string.Create(CultureInfo.InvariantCulture, $"http://localhost:{fixture.Cluster.WorkerUrls[i].Port}/");
        }

        await using var gateway = await fixture.Cluster.StartGatewayAsync(settings, withWorkerDestinations: false);
        var clients = fixture.Clients.Take(30).ToArray();

        var first = await Load.RoundAsync(clients, gateway.Url, Load.PreprocessMv);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // at least one refresh in between
        var second = await Load.RoundAsync(clients, gateway.Url, Load.PreprocessMv);

        Assert.Empty(first.Failures);
        Assert.Empty(second.Failures);
        Assert.Equal(first.Workers, second.Workers);
        Assert.Equal(ClusterFixture.WorkerCount, first.Workers.Distinct().Count());
        var metrics = await PrometheusText.ScrapeAsync(gateway.Url);
        Assert.Equal(["dns-0[127.0.0.1]", "dns-1[127.0.0.1]", "dns-2[127.0.0.1]"], metrics.LabelValues("ecg2af_gateway_destination_available", "destination"));
    }
}
