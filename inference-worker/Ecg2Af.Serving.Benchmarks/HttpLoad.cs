using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Serving.Benchmarks;

/// <summary>Results of one load phase; latencies in milliseconds.</summary>
internal sealed record LoadResult(int Ok, int Failed, int Late, double Throughput, double P50, double P99, double Max);

/// <summary>
/// Drives the worker's OIP inference endpoint with binary tensor requests (one stand-in ECG each, outputs binary):
/// closed loop for saturation, one at a time for unloaded latency, and open loop at a constant rate for latency under load.
/// </summary>
internal sealed class HttpLoad : IDisposable
{
    private const string Path = "/v2/models/ecg2af/infer";
    private readonly HttpClient _client;
    private readonly byte[][] _bodies;
    private readonly int _headerLength;

    public HttpLoad(Uri worker, TestApiKey apiKey)
    {
        _client = apiKey.Authorize(new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = worker,
            Timeout = TimeSpan.FromMinutes(10),
        });
        var header = Encoding.UTF8.GetBytes(
            "{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"input_ecg_5000_std_continuous\",\"shape\":[1,5000,12],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":240000}}]}");
        _headerLength = header.Length;
        _bodies = Enumerable.Range(0, 16).Select(byte[] (seed) =>
        {
            var random = new Random(seed);
            var ecg = new float[60_000];
            for (var i = 0; i < ecg.Length; i++)
            {
                ecg[i] = (float)((random.NextDouble() * 4) - 2);
            }

            return [.. header, .. MemoryMarshal.AsBytes(ecg.AsSpan()).ToArray()];
        }).ToArray();
    }

    /// <summary><paramref name="concurrency"/> clients send back to back; completions inside the measured window count.</summary>
    public async Task<LoadResult> ClosedLoopAsync(int concurrency, double warmupSeconds, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var from = warmupSeconds;
        var until = warmupSeconds + seconds;
        var latencies = new ConcurrentBag<double>();
        int ok = 0, failed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async client =>
        {
            var n = client;
            while (clock.Elapsed.TotalSeconds < until)
            {
                var start = clock.Elapsed.TotalSeconds;
                var success = await SendAsync(n++);
                var end = clock.Elapsed.TotalSeconds;
                if (end >= from && end < until)
                {
                    if (success)
                    {
                        Interlocked.Increment(ref ok);
                        latencies.Add((end - start) * 1000);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }
        }));
        return Summarize(ok, failed, 0, ok / seconds, latencies);
    }

    /// <summary>One request at a time (after three warm-up requests).</summary>
    public async Task<LoadResult> SequentialAsync(int requests)
    {
        for (var i = 0; i < 3; i++)
        {
            await SendAsync(i);
        }

        var latencies = new ConcurrentBag<double>();
        int ok = 0, failed = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < requests; i++)
        {
            var watch = Stopwatch.StartNew();
            if (await SendAsync(i))
            {
                ok++;
                latencies.Add(watch.Elapsed.TotalMilliseconds);
            }
            else
            {
                failed++;
            }
        }

        return Summarize(ok, failed, 0, ok / total.Elapsed.TotalSeconds, latencies);
    }

    /// <summary>
    /// Sends at a constant <paramref name="rate"/> whatever the responses do; a request's latency runs from its
    /// scheduled send time. The first <paramref name="warmupSeconds"/> are sent but not measured.
    /// </summary>
    public async Task<LoadResult> OpenLoopAsync(double rate, double warmupSeconds, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var total = (int)Math.Floor((warmupSeconds + seconds) * rate);
        var latencies = new ConcurrentBag<double>();
        int ok = 0, failed = 0, late = 0;
        var inFlight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var scheduled = i / rate;
            var wait = scheduled - clock.Elapsed.TotalSeconds;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait));
            }

            var measured = scheduled >= warmupSeconds;
            if (measured && clock.Elapsed.TotalSeconds - scheduled > 0.005)
            {
                late++;
            }

            var n = i;
            inFlight.Add(Task.Run(async () =>
            {
                var success = await SendAsync(n);
                var latency = (clock.Elapsed.TotalSeconds - scheduled) * 1000;
                if (!measured)
                {
                    return;
                }

                if (success)
                {
                    Interlocked.Increment(ref ok);
                    latencies.Add(latency);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }));
        }

        await Task.WhenAll(inFlight);
        var achieved = (ok + failed) / seconds;
        return Summarize(ok, failed, late, achieved, latencies);
    }

    /// <summary>The worker's cumulative batch-size histogram sum (items) and count (runs), and compute seconds.</summary>
    public async Task<(double Items, double Runs, double ComputeSeconds)> BatchStatsAsync()
    {
        var text = await _client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        double Sum(string name) => text.Split('\n')
            .Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return (Sum("ecg2af_inference_batch_size_sum"), Sum("ecg2af_inference_batch_size_count"), Sum("ecg2af_inference_compute_duration_seconds_sum"));
    }

    public void Dispose() => _client.Dispose();

    private async Task<bool> SendAsync(int n)
    {
        using var content = new ByteArrayContent(_bodies[n % _bodies.Length]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", _headerLength.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var response = await _client.PostAsync(new Uri(Path, UriKind.Relative), content);
            await response.Content.ReadAsByteArrayAsync();
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static LoadResult Summarize(int ok, int failed, int late, double throughput, IEnumerable<double> latencies)
    {
        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LoadResult(ok, failed, late, throughput, Percentile(0.50), Percentile(0.99), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }
}
