using System.Globalization;
using Ecg2Af.Deploy.Tests.Support;

namespace Ecg2Af.Deploy.Tests;

/// <summary>
/// Issue #13: a wrong API key is refused at the gateway (401), and its text appears in no log line, span or metric of
/// the gateway or the workers, while the traffic with the right key was served and traced.
/// </summary>
[Collection(ObservedClusterCollection.Name)]
public sealed class ApiKeyTelemetryTests(ObservedCluster cluster)
{
    [Fact]
    public async Task WrongKey_Refused401_TextInNoLogSpanOrMetric()
    {
        Assert.Equal(2, cluster.Traffic.Count(t => t.StartsWith("wrong key", StringComparison.Ordinal) && t.EndsWith(": 401", StringComparison.Ordinal)));
        Assert.Equal(2, cluster.Traffic.Count(t => t.StartsWith("oip infer", StringComparison.Ordinal) && t.EndsWith(": 200", StringComparison.Ordinal)));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var gatewayMetrics = await http.GetStringAsync(new Uri(cluster.Cluster.GatewayUrl, "/metrics"));
        Assert.Contains("ecg2af_gateway_rejected_requests_total{reason=\"unauthenticated\"} 2", gatewayMetrics, StringComparison.Ordinal);

        var token = ObservedCluster.Token;
        Assert.DoesNotContain(token, gatewayMetrics, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(token, cluster.Cluster.Gateway.Output, StringComparison.OrdinalIgnoreCase);
        for (var i = 0; i < cluster.Cluster.WorkerUrls.Count; i++)
        {
            var metrics = await http.GetStringAsync(new Uri(cluster.Cluster.WorkerUrls[i], "/metrics"));
            Assert.DoesNotContain(token, metrics, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(token, cluster.Cluster.Worker(i).Output, StringComparison.OrdinalIgnoreCase);
        }

        // Prometheus scraped both services the whole time: nothing it stored carries the token either.
        var series = await cluster.Prometheus.GetAsync("api/v1/series?match[]=" + Uri.EscapeDataString("{__name__=~\"ecg2af_.+|http_.+\"}"));
        Assert.DoesNotContain(token, series.ToString(), StringComparison.OrdinalIgnoreCase);

        // The spans saw the refused requests (the gateway's server spans with status 401) without the key.
        var spans = cluster.Otlp.Spans.ToList();
        Assert.Contains(spans, s => s.Attributes.TryGetValue("http.response.status_code", out var code)
            && code == 401.ToString(CultureInfo.InvariantCulture));
        Assert.DoesNotContain(spans, s => s.ToString().Contains(token, StringComparison.OrdinalIgnoreCase));
    }
}
