using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// The real gateway and two real workers (child processes on loopback), exporting spans over OTLP/HTTP to an
/// in-test receiver and scraped every second by Debian's Prometheus running the project's own scrape config and
/// rules (only the targets point at the loopback ports). Traffic is sent once, through the gateway, from many
/// client addresses: predictions, OIP metadata and inference (with the cluster's API key), a wrong API key carrying
/// <see cref="Token"/> (401), refused uploads (400, 415), a passed deadline (504),
/// a burst over one client's rate limit (429), and a request pinned to a model version the workers refused (503,
/// retried on the other worker).
/// </summary>
public sealed class ObservedCluster : IAsyncLifetime
{
    // Letters no hex id or number contains, so a hit can only be the personal data.
    public static readonly string Token = new(Enumerable.Range(0, 10).Select(_ => "ghjkmnpqrstvwxyz"[Random.Shared.Next(16)]).ToArray());

    public static string PersonName => $"Ottilie Tracewell {Token}";

    public static string Email => $"ottilie.{Token}@observability-probe.example.org";

    public OtlpReceiver Otlp { get; private set; } = null!;

    public LocalCluster.LocalCluster Cluster { get; private set; } = null!;

    public PrometheusServer Prometheus { get; private set; } = null!;

    /// <summary>What the traffic got, for diagnostics.</summary>
    public List<string> Traffic { get; } = [];

    public static byte[] SinusEcg => File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml"));

    public async Task InitializeAsync()
    {
        Otlp = await OtlpReceiver.StartAsync();
        var tracing = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Endpoint.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        Cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions
        {
            Workers = 2,
            WorkerSettings = tracing,
            GatewaySettings = new Dictionary<string, string>(tracing)
            {
                ["Gateway__RateLimit__TokenLimit"] = "10",
                ["Gateway__RateLimit__TokensPerPeriod"] = "10",
            },
        });
        Prometheus = await PrometheusServer.StartAsync(ScrapeConfiguration(), TimeSpan.FromSeconds(60));
        await WaitForTargetsAsync();
        await SendTrafficAsync();
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        if (Otlp is not null)
        {
            await Otlp.DisposeAsync();
        }
    }

    /// <summary>
    /// deploy/prometheus/prometheus.yml with the targets pointed at the loopback ports (the workers' DNS discovery
    /// becomes two static targets), intervals of one second, and the rule files by absolute path.
    /// </summary>
    public string ScrapeConfiguration()
    {
        var config = Yaml.Load(Path.Combine(Expressions.Deploy, "prometheus", "prometheus.yml")).Obj("prometheus.yml");
        var global = config["global"].Obj("global");
        global["scrape_interval"] = "1s";
        global["scrape_timeout"] = "1s";
        global["evaluation_interval"] = "1s";
        config["rule_files"] = new JsonArray(Path.Combine(Expressions.Deploy, "prometheus", "rules", "*.yml"));
        var jobs = config["scrape_configs"].Items().Cast<JsonObject>().ToList();
        if (jobs.Select(j => j["job_name"].Text()).Order().SequenceEqual(["gateway", "inference-worker"]) is false)
        {
            throw new InvalidOperationException("prometheus.yml should scrape exactly the jobs gateway and inference-worker");
        }

        foreach (var job in jobs)
        {
            var targets = job["job_name"].Text() == "gateway"
                ? [Cluster.GatewayUrl.Authority]
                : Cluster.WorkerUrls.Select(u => u.Authority).ToArray();
            job.Remove("dns_sd_configs");
            job["static_configs"] = new JsonArray(new JsonObject { ["targets"] = new JsonArray(targets.Select(t => JsonValue.Create(t)).ToArray<JsonNode?>()) });
        }

        return config.ToJsonString(); // JSON is YAML
    }

    public static HttpRequestMessage Prediction(Uri gateway, byte[] ecg, string fileName = "muse-sinus.xml", string? version = null)
    {
        var content = new MultipartFormDataContent
        {
            { new StringContent(PersonName), "name" },
            { new StringContent(Email), "email" },
        };
        if (version is not null)
        {
            content.Add(new StringContent(version), "version");
        }

        var part = new ByteArrayContent(ecg);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "ecg", fileName);
        return new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "/api/v1/predictions")) { Content = content };
    }

    private async Task WaitForTargetsAsync()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var targets = await Prometheus.GetAsync("api/v1/targets");
            var active = targets.GetProperty("activeTargets").EnumerateArray().ToList();
            if (active.Count == 3 && active.All(t => t.GetProperty("health").GetString() == "up"))
            {
                return;
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"Prometheus targets not up: {targets}\n{Prometheus.Output}");
            }

            await Task.Delay(250);
        }
    }

    private async Task SendTrafficAsync()
    {
        var gateway = Cluster.GatewayUrl;
        var ecg = SinusEcg;

        // Predictions from 12 client addresses (both workers get some), three at a time.
        await Parallel.ForEachAsync(Enumerable.Range(0, 12), new ParallelOptions { MaxDegreeOfParallelism = 3 }, async (i, _) =>
            await SendAsync(i, "prediction", () => Prediction(gateway, ecg)));

        // Refused uploads: an unknown format (415) and no file at all (400).
        await SendAsync(20, "unknown format", () => Prediction(gateway, Encoding.UTF8.GetBytes("Shopping list: milk, eggs.\n"), "notes.txt"));
        await SendAsync(21, "no file", () => new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "/api/v1/predictions"))
        {
            Content = new MultipartFormDataContent { { new StringContent(PersonName), "name" }, { new StringContent(Email), "email" } },
        });

        // The Open Inference Protocol: metadata, and raw binary inference of one all-zero input (5000 × 12 FP32).
        for (var i = 30; i < 32; i++)
        {
            await SendAsync(i, "oip server metadata", () => new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/v2")));
            await SendAsync(i, "oip model metadata", () => Cluster.ApiKey.Authorize(new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/v2/models/ecg2af"))));
            await SendAsync(i, "oip infer", () => Cluster.ApiKey.Authorize(ZeroInference(gateway)));
        }

        // A wrong key (its text carries the token): 401 at the gateway, and the text must appear nowhere.
        await SendAsync(33, "wrong key", () =>
        {
            var request = ZeroInference(gateway);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", WrongKey);
            return request;
        });
        await SendAsync(34, "wrong key", () =>
        {
            var request = ZeroInference(gateway);
            request.Headers.Add("X-Api-Key", WrongKey);
            return request;
        });

        // A deadline that passes before compute: 504, never computed.
        await SendAsync(40, "deadline", () =>
        {
            var request = Prediction(gateway, ecg);
            request.Headers.Add("X-Ecg2Af-Deadline-Ms", "0.001");
            return request;
        });

        // A version every worker refuses (unreadable files): pinned requests get 503, which the gateway retries once.
        var refused = Path.Combine(Cluster.ModelRepository, "ecg2af", "0");
        Directory.CreateDirectory(refused);
        await File.WriteAllTextAsync(Path.Combine(refused, "model.json"), "this is not a model signature");
        await File.WriteAllBytesAsync(Path.Combine(refused, "model.onnx"), [1, 2, 3, 4]);
        await WaitUntilRefusedAsync("0");
        await SendAsync(41, "pinned to a refused version", () => Prediction(gateway, ecg, version: "0"));

        // One client over its rate limit (10 tokens): a burst of cheap requests, most answered 429 by the gateway.
        using (var burst = LoopbackClients.Create(LoopbackClients.Address(60)))
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
            {
                using var response = await burst.GetAsync(new Uri(gateway, "/v2"));
                return response.StatusCode;
            }));
            Traffic.Add($"burst: {string.Join(",", statuses.GroupBy(s => (int)s).Select(g => $"{g.Key}x{g.Count()}"))}");
        }
    }

    /// <summary>A key no configuration holds, carrying <see cref="Token"/>.</summary>
    public static string WrongKey => $"e2a_{Token}NotAKeyAtAll";

    /// <summary>Raw binary OIP inference of one all-zero input (5000 × 12 FP32).</summary>
    private static HttpRequestMessage ZeroInference(Uri gateway)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "/v2/models/ecg2af/infer"))
        {
            Content = new ByteArrayContent(new byte[5000 * 12 * 4]),
        };
        request.Headers.Add("Inference-Header-Content-Length", "0");
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return request;
    }

    private async Task SendAsync(int client, string what, Func<HttpRequestMessage> request)
    {
        using var http = LoopbackClients.Create(LoopbackClients.Address(client), TimeSpan.FromSeconds(120));
        using var message = request();
        using var response = await http.SendAsync(message);
        lock (Traffic)
        {
            Traffic.Add($"{what} from client {client}: {(int)response.StatusCode}");
        }
    }

    /// <summary>Waits until every worker has scanned and refused <paramref name="version"/> (503 on its ready endpoint, not 404).</summary>
    private async Task WaitUntilRefusedAsync(string version)
    {
        using var http = Cluster.ApiKey.Authorize(new HttpClient { Timeout = TimeSpan.FromSeconds(5) });
        var watch = Stopwatch.StartNew();
        foreach (var worker in Cluster.WorkerUrls)
        {
            while (true)
            {
                using var response = await http.GetAsync(new Uri(worker, $"/v2/models/ecg2af/versions/{version}/ready"));
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    break;
                }

                if (watch.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"{worker} did not refuse version {version}: {(int)response.StatusCode}");
                }

                await Task.Delay(200);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ObservedClusterCollection : ICollectionFixture<ObservedCluster>
{
    public const string Name = "Observed cluster";
}
