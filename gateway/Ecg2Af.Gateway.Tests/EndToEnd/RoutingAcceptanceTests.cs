using Ecg2Af.LocalCluster;
using Xunit.Abstractions;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>Issue #6 acceptance: stickiness and spread over 200 real client addresses, the same on every gateway.</summary>
[Collection(ClusterCollection.Name)]
public class RoutingAcceptanceTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Clients_200LoopbackAddresses_EachAlwaysReachesTheSameWorkerAndSpreadIsEven()
    {
        await fixture.WaitUntilAllAvailableAsync(fixture.Gateway);
        var rounds = new List<Load.Round>();
        for (var r = 0; r < 3; r++)
        {
            rounds.Add(await Load.RoundAsync(fixture.Clients, fixture.Gateway, Load.PreprocessMv));
        }

        Assert.All(rounds, round => Assert.Empty(round.Failures));
        for (var client = 0; client < ClusterFixture.ClientCount; client++)
        {
            Assert.Single(rounds.Select(r => r.Workers[client]).Distinct());
        }

        var spread = rounds[0].Workers.GroupBy(w => w!).ToDictionary(g => g.Key, g => g.Count());
        var even = (double)ClusterFixture.ClientCount / ClusterFixture.WorkerCount;
        output.WriteLine(string.Join(", ", spread.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value}")));
        Assert.Equal(ClusterFixture.WorkerCount, spread.Count);
        Assert.All(spread, s => Assert.InRange(s.Value, 0.75 * even, 1.25 * even));
    }

    [Fact]
    public async Task TwoGatewayInstances_EveryClient_SameWorkerOnBoth()
    {
        var homes = await fixture.HomesAsync();
        await using var second = await fixture.Cluster.StartGatewayAsync();
        await fixture.WaitUntilAllAvailableAsync(second.Url);

        var round = await Load.RoundAsync(fixture.Clients, second.Url, Load.PreprocessMv);

        Assert.Empty(round.Failures);
        Assert.Equal(homes, round.Workers);
    }

    [Fact]
    public async Task ForwardedFor_FromTrustedProxyOnly_DecidesTheClient()
    {
        var homes = await fixture.HomesAsync();
        var (a, b) = TwoClientsOnDifferentWorkers(homes);
        var proxyAddress = System.Net.IPAddress.Parse("127.0.9.9");
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__ClientAddress__TrustedProxies__0"] = proxyAddress.ToString(),
        });
        await fixture.WaitUntilAllAvailableAsync(gateway.Url);
        using var proxy = fixture.Cluster.ApiKey.Authorize(LoopbackClients.Create(proxyAddress));

        // The trusted proxy speaks for a and for b, with either header.
        Assert.Equal(homes[a], await WorkerAsync(proxy, gateway.Url, ("X-Forwarded-For", $"192.0.2.1, {LoopbackClients.Address(a)}")));
        Assert.Equal(homes[b], await WorkerAsync(proxy, gateway.Url, ("Forwarded", $"for={LoopbackClients.Address(b)};proto=http")));

        // Client a claiming to be b (or anyone) still lands on its own worker.
        Assert.Equal(homes[a], await WorkerAsync(fixture.Clients[a], gateway.Url, ("X-Forwarded-For", LoopbackClients.Address(b).ToString())));
        Assert.Equal(homes[a], await WorkerAsync(fixture.Clients[a], gateway.Url, ("Forwarded", $"for={LoopbackClients.Address(b)}")));
    }

    internal static (int A, int B) TwoClientsOnDifferentWorkers(IReadOnlyList<string> homes)
    {
        var b = Enumerable.Range(1, homes.Count - 1).First(i => homes[i] != homes[0]);
        return (0, b);
    }

    private static async Task<string?> WorkerAsync(HttpClient client, Uri gateway, (string Name, string Value) header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Load.PreprocessUrl(gateway)) { Content = Load.PreprocessMv() };
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return Load.Worker(response);
    }
}
