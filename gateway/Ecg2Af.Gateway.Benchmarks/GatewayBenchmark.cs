using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Benchmarks;

/// <summary>
/// Starts the real gateway and workers (LocalCluster), then measures, in the same run and on the same processes:
/// (1) the median latency the gateway adds on a trivial route (the worker's <c>/health/live</c>, reached directly
/// and through a gateway route that maps <c>/_bench/live</c> onto it, one request at a time); (2) closed-loop
/// prediction throughput direct to the worker and through the gateway, in alternating phases so that drift on a
/// shared machine hits both. Each client sends to the worker the gateway picks for it in both modes.
/// </summary>
internal static class GatewayBenchmark
{
    private const string TrivialRoute = "/_bench/live";
    private const int LatencyBlock = 250;

    public static async Task<BenchmarkReport> RunAsync(BenchmarkSettings settings, TextWriter log)
    {
        var ecg = await File.ReadAllBytesAsync(settings.EcgPath);
        log.WriteLine($"Starting a gateway and {settings.Workers} worker(s)...");
        await using var cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions
        {
            Workers = settings.Workers,
            GatewaySettings = new Dictionary<string, string>
            {
                // A benchmark is one busy client population; the per-client limit would measure itself.
                ["Gateway__RateLimit__Enabled"] = "false",
                ["ReverseProxy__Routes__bench-live__ClusterId"] = LocalCluster.LocalCluster.ClusterId,
                ["ReverseProxy__Routes__bench-live__Match__Path"] = TrivialRoute,
                ["ReverseProxy__Routes__bench-live__Transforms__0__PathSet"] = "/health/live",
            },
        });

        var clients = Enumerable.Range(0, settings.Clients).Select(i => LoopbackClients.Create(LoopbackClients.Address(i), maxConnections: 1)).ToArray();
        try
        {
            // Where the gateway sends each client; direct mode sends it to the same worker.
            var homes = new Uri[clients.Length];
            for (var i = 0; i < clients.Length; i++)
            {
                using var probe = await clients[i].GetAsync(new Uri(cluster.GatewayUrl, TrivialRoute));
                probe.EnsureSuccessStatusCode();
                var worker = probe.Headers.GetValues("X-Ecg2Af-Worker").Single();
                homes[i] = cluster.WorkerUrls[int.Parse(worker["worker-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
            }

            log.WriteLine("Warming up...");
            await SerialLatencyAsync(clients[0], new Uri(homes[0], "/health/live"), 300);
            await SerialLatencyAsync(clients[0], new Uri(cluster.GatewayUrl, TrivialRoute), 300);
            await ThroughputAsync(clients, i => new Uri(homes[i], "/api/v1/predictions"), ecg, TimeSpan.FromSeconds(settings.Seconds));
            await ThroughputAsync(clients, _ => new Uri(cluster.GatewayUrl, "/api/v1/predictions"), ecg, TimeSpan.FromSeconds(settings.Seconds));

            log.WriteLine($"Trivial route: {settings.LatencyRequests} serial requests per mode...");
            var direct = new List<double>();
            var through = new List<double>();
            for (var done = 0; done < settings.LatencyRequests; done += LatencyBlock)
            {
                direct.AddRange(await SerialLatencyAsync(clients[0], new Uri(homes[0], "/health/live"), LatencyBlock));
                through.AddRange(await SerialLatencyAsync(clients[0], new Uri(cluster.GatewayUrl, TrivialRoute), LatencyBlock));
            }

            log.WriteLine($"Predictions: {settings.Clients} clients, {settings.Pairs} x (direct, gateway) phases of {settings.Seconds} s...");
            var phase = TimeSpan.FromSeconds(settings.Seconds);
            var phases = new List<ThroughputResult>();
            for (var pair = 0; pair < settings.Pairs; pair++)
            {
                // ABBA order (direct first in even pairs, gateway first in odd ones) cancels a steady drift, such
                // as the worker still warming up, instead of crediting it to whichever mode runs second.
                foreach (var mode in pair % 2 == 0 ? ["direct", "gateway"] : new[] { "gateway", "direct" })
                {
                    var gatewayCpu = CpuTime(cluster.Gateway.ProcessId);
                    var workersCpu = WorkersCpuTime(cluster, settings.Workers);
                    var result = mode == "direct"
                        ? await ThroughputAsync(clients, i => new Uri(homes[i], "/api/v1/predictions"), ecg, phase)
                        : await ThroughputAsync(clients, _ => new Uri(cluster.GatewayUrl, "/api/v1/predictions"), ecg, phase);
                    phases.Add(result with
                    {
                        Mode = mode,
                        Pair = pair,
                        GatewayCpuSeconds = (CpuTime(cluster.Gateway.ProcessId) - gatewayCpu).TotalSeconds,
                        WorkerCpuSeconds = (WorkersCpuTime(cluster, settings.Workers) - workersCpu).TotalSeconds,
                    });
                    log.WriteLine($"  {mode,-7} {result.PerSecond:0.00}/s");
                }
            }

            return new BenchmarkReport(settings, Environment.ProcessorCount, new LatencyResult(direct, through), phases, DateTimeOffset.UtcNow);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>CPU time a process has used so far (user and system), read from /proc: unaffected by how busy the machine is.</summary>
    private static TimeSpan CpuTime(int processId)
    {
        using var process = Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }

    private static TimeSpan WorkersCpuTime(LocalCluster.LocalCluster cluster, int workers) =>
        Enumerable.Range(0, workers).Aggregate(TimeSpan.Zero, (sum, i) => sum + CpuTime(cluster.Worker(i).ProcessId));

    /// <summary>Milliseconds per request, one request at a time on one kept-alive connection.</summary>
    private static async Task<List<double>> SerialLatencyAsync(HttpClient client, Uri url, int count)
    {
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url);
            await response.Content.LoadIntoBufferAsync();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"{url} answered {(int)response.StatusCode}.");
            }
        }

        return samples;
    }

    /// <summary>Each client uploads the ECG again as soon as its last prediction returned, for <paramref name="duration"/>.</summary>
    private static async Task<ThroughputResult> ThroughputAsync(HttpClient[] clients, Func<int, Uri> target, byte[] ecg, TimeSpan duration)
    {
        var latencies = new List<double>();
        var errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync(target(i), Upload(ecg));
                await response.Content.LoadIntoBufferAsync();
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies)
                {
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        latencies.Add(elapsed);
                    }
                    else
                    {
                        errors++;
                    }
                }
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        return new ThroughputResult("", 0, latencies.Count, errors, seconds, latencies);
    }

    private static MultipartFormDataContent Upload(byte[] ecg)
    {
        var file = new ByteArrayContent(ecg);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { file, "ecg", "ecg.xml" },
            { new StringContent("Benchmark"), "name" },
            { new StringContent("benchmark@example.org"), "email" },
        };
    }
}
