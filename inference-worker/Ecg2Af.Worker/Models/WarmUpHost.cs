using System.Net.Http.Headers;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Models;

/// <summary>
/// Warms the worker up before it reports ready: once the default model serves, it sends itself
/// <see cref="SchedulerOptions.WarmUpRequests"/> Open Inference Protocol requests (raw binary, one synthetic ECG-shaped
/// input each, priority stat) over loopback, in waves of 1, 2, 4, … concurrent requests up to the max batch size. So Kestrel, the OIP
/// reader and writer, the batcher and ONNX Runtime have run their code (JIT tiering) and batch sizes before the first
/// client does. They are audited under the key id <c>worker-warm-up</c>, untraced, and counted in the metrics like any other.
/// </summary>
internal sealed class WarmUpHost(
    ModelCatalog catalog,
    ModelRepositoryHost repository,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<SchedulerOptions> options,
    ILogger<WarmUpHost> logger) : BackgroundService
{
    private volatile bool _done;

    /// <summary>True once the warm-up ran (or was off, or could not run: it never keeps a serving worker out of rotation).</summary>
    public bool IsDone => _done || options.Value.WarmUpRequests == 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var requests = options.Value.WarmUpRequests;
        if (requests == 0)
        {
            return;
        }

        try
        {
            // The repository host says "ready" only after its initial sync finished and the default model serves; the
            // catalog alone can report the default model serving a moment earlier, in the middle of that sync.
            await WaitForAsync(() => lifetime.ApplicationStarted.IsCancellationRequested && repository.Status == "ready", stoppingToken);
            var (_, served, message) = catalog.Resolve(catalog.DefaultModel, null);
            if (served is null)
            {
                logger.WarmUpFailed(message);
                return;
            }

            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var sent = await SendAsync(served, requests, stoppingToken);
            logger.WarmedUp(sent, served.ModelName, served.ModelVersion, (long)System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // A refusal (a lane bound below the wave, say) or a timeout: serve cold rather than not at all.
            logger.WarmUpFailed(e.Message);
        }
        finally
        {
            _done = true;
        }
    }

    private async Task<int> SendAsync(ServedVersion served, int requests, CancellationToken cancellationToken)
    {
        var body = new byte[served.InputLength * sizeof(float)];
        var input = new float[served.InputLength];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)Math.Sin(i * 0.01);
        }

        Buffer.BlockCopy(input, 0, body, 0, body.Length);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var path = $"/v2/models/{Uri.EscapeDataString(served.ModelName)}/versions/{Uri.EscapeDataString(served.ModelVersion)}/infer";
        var address = await FirstWorkingAddressAsync(client, path, body, cancellationToken);
        var sent = 1;
        var maxWave = Math.Max(1, Math.Min(options.Value.MaxBatchSize, options.Value.QueueCapacity.Stat));
        for (var wave = 1; sent < requests; wave = wave >= maxWave ? 1 : Math.Min(wave * 2, maxWave))
        {
            var count = Math.Min(wave, requests - sent);
            await Task.WhenAll(Enumerable.Range(0, count).Select(_ => PostAsync(client, new Uri(address, path), body, cancellationToken)));
            sent += count;
        }

        return sent;
    }

    /// <summary>The first listening address that answers the protocol over HTTP/1.1 (a gRPC-only endpoint does not).</summary>
    private async Task<Uri> FirstWorkingAddressAsync(HttpClient client, string path, byte[] body, CancellationToken cancellationToken)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        HttpRequestException? last = null;
        foreach (var raw in addresses.Where(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
        {
            var address = Ecg2Af.Security.SelfCall.Loopback(raw);
            try
            {
                await PostAsync(client, new Uri(address, path), body, cancellationToken);
                return address;
            }
            catch (HttpRequestException e)
            {
                last = e;
            }
        }

        throw last ?? new HttpRequestException("the worker listens on no plain HTTP address");
    }

    private static async Task PostAsync(HttpClient client, Uri uri, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.Add("Inference-Header-Content-Length", "0");

        // The worker calling itself over loopback is a trusted proxy: it names itself as the caller, so the route's
        // key check lets it through and its audit records say they were the warm-up.
        request.Headers.Add(Ecg2Af.Security.ApiKeyCredentials.KeyIdHeader, Ecg2Af.Security.WarmUpCallers.Worker);

        // Stat: a held batch (Serving:MaxQueueDelayMs) never keeps it waiting, and routine lanes stay free for clients.
        request.Headers.Add("X-Ecg2Af-Priority", "stat");
        using var response = await client.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }
}

internal static partial class WarmUpLog
{
    [LoggerMessage(EventId = 110, Level = LogLevel.Information,
        Message = "Warmed up with {Requests} inference requests to {Model}/{Version} in {Ms} ms; reporting ready")]
    public static partial void WarmedUp(this ILogger logger, int requests, string model, string version, long ms);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Warm-up could not run ({Reason}); reporting ready cold")]
    public static partial void WarmUpFailed(this ILogger logger, string reason);
}
