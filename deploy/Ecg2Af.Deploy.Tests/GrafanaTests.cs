using System.Text.Json.Nodes;
using Ecg2Af.Deploy.Tests.Support;

namespace Ecg2Af.Deploy.Tests;

/// <summary>The provisioned datasource and dashboards: well-formed, on the provisioned datasource, covering what issue #8 asks.</summary>
public sealed class GrafanaTests
{
    private static string Grafana => Path.Combine(Expressions.Deploy, "grafana");

    [Fact]
    public void Dashboards_EveryPanel_UsesTheProvisionedDatasourceWithUniqueIdsAndPlacement()
    {
        var datasource = Yaml.Load(Path.Combine(Grafana, "provisioning", "datasources", "prometheus.yml"))["datasources"].Items().Single();
        Assert.Equal("prometheus", datasource["type"].Text());
        var uid = datasource["uid"].Text();
        var uids = new HashSet<string>();
        foreach (var file in Expressions.DashboardFiles)
        {
            var board = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.True(uids.Add(board["uid"].Text()!), $"{file}: duplicate uid");
            Assert.Equal(Path.GetFileNameWithoutExtension(file), board["uid"].Text());
            var panels = Expressions.Panels(board).ToList();
            Assert.Equal(panels.Count, panels.Select(p => p["id"]!.GetValue<int>()).Distinct().Count());
            foreach (var panel in panels)
            {
                Assert.NotNull(panel["gridPos"]?["w"]);
                if (panel["type"].Text() == "row")
                {
                    continue;
                }

                Assert.False(string.IsNullOrWhiteSpace(panel["title"].Text()));
                Assert.Equal(uid, panel["datasource"]?["uid"].Text());
                Assert.NotEmpty(panel["targets"].Items());
                Assert.All(panel["targets"].Items(), t => Assert.Equal(uid, t["datasource"]?["uid"].Text()));
            }

            Assert.All(board["templating"]?["list"].Items() ?? [], v => Assert.Equal(uid, v["datasource"]?["uid"].Text()));
        }

        Assert.Equal(["ecg2af-gateway", "ecg2af-inference", "ecg2af-overview"], uids.Order());
    }

    [Fact]
    public void Dashboards_Coverage_RedByRouteInferenceAndGatewayViews()
    {
        var queries = Expressions.FromDashboards().GroupBy(e => e.Source.Split(' ')[0]).ToDictionary(g => g.Key, g => string.Join('\n', g.Select(e => e.Original)));

        // Service overview: rate, errors and duration by route and status; process and runtime.
        Assert.Contains("sum by (job, endpoint) (rate(http_request_duration_seconds_count", queries["ecg2af-overview"], StringComparison.Ordinal);
        Assert.Contains("sum by (job, code)", queries["ecg2af-overview"], StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds_bucket", queries["ecg2af-overview"], StringComparison.Ordinal);
        Assert.Contains("process_cpu_seconds_total", queries["ecg2af-overview"], StringComparison.Ordinal);
        Assert.Contains("system_runtime_dotnet_thread_pool_queue_length", queries["ecg2af-overview"], StringComparison.Ordinal);

        // Inference: throughput, batch size, queue and compute time, queue depth, execution provider.
        foreach (var metric in new[]
                 {
                     "ecg2af_inference_requests_total", "ecg2af_inference_batch_size_bucket", "ecg2af_inference_batch_cap", "ecg2af_inference_queue_duration_seconds_bucket",
                     "ecg2af_inference_compute_duration_seconds_bucket", "ecg2af_inference_queue_depth", "ecg2af_model_info",
                     "ecg2af_execution_provider_fallbacks_total",
                 })
        {
            Assert.Contains(metric, queries["ecg2af-inference"], StringComparison.Ordinal);
        }

        // Gateway: traffic and errors per worker, retries, health, distribution of clients.
        foreach (var metric in new[]
                 {
                     "ecg2af_gateway_upstream_requests_total", "ecg2af_gateway_upstream_errors_total", "ecg2af_gateway_retries_total",
                     "ecg2af_gateway_destination_health", "ecg2af_gateway_destination_available", "ecg2af_gateway_active_clients",
                 })
        {
            Assert.Contains(metric, queries["ecg2af-gateway"], StringComparison.Ordinal);
        }
    }
}
