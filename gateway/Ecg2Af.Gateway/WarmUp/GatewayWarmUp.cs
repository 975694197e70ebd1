using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.WarmUp;

/// <summary>
/// Warms the gateway up before it reports ready. Once it listens, it asks itself (over loopback, with the
/// <see cref="WarmUpKey"/>) for the model's metadata until a worker answers, then sends itself rounds of raw-binary
/// inference requests of that input's shape (priority stat) and metadata requests until the JIT has settled (see
/// <see cref="WarmUpRoundsAsync"/>). Each goes the way a client's does: key check, rate limiter, routing, body streaming
/// to a worker and the answer back, so that code runs optimized before the first client arrives. The workers audit the
/// inference requests under <c>gateway-warm-up</c>; neither service traces them; the metrics count them like any
/// other. Whatever goes wrong, the gateway reports ready (cold) rather than not at all.
/// </summary>
internal sealed class GatewayWarmUp(
    WarmUpKey key,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<WarmUpOptions> options,
    ILogger<GatewayWarmUp> logger) : BackgroundService
{
    /// <summary>True once the warm-up ran, was off or could not run: its key is closed at that moment.</summary>
    public bool IsDone => !key.IsOpen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        try
        {
            if (!o.Enabled)
            {
                return;
            }

            while (!lifetime.ApplicationStarted.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), stoppingToken);
            }

            var addresses = (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
                .Where(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)).Select(Ecg2Af.Security.SelfCall.Loopback).ToList();
            if (addresses.Count == 0)
            {
                logger.WarmUpSkipped("the gateway listens on no plain HTTP address");
                return;
            }

            using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
            var model = Uri.EscapeDataString(o.Model);
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var (address, length, why) = await InputLengthAsync(client, addresses, $"/v2/models/{model}", o.WorkerWait, stoppingToken);
            if (address is null || length is not { } inputLength)
            {
                logger.WarmUpSkipped(why);
                return;
            }

            var body = new byte[inputLength * sizeof(float)];
            for (var i = 0; i < inputLength; i++)
            {
                BitConverter.TryWriteBytes(body.AsSpan(i * sizeof(float)), (float)Math.Sin(i * 0.01));
            }

            var rounds = await WarmUpRoundsAsync(client, address, model, body, o, stoppingToken);
            logger.WarmedUp(rounds * o.Concurrency, rounds * MetadataPerInference * o.Concurrency, rounds, o.Model,
                (long)System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (WarmUpFailedException e)
        {
            logger.WarmUpSkipped(e.Message);
        }
        catch (HttpRequestException e)
        {
            logger.WarmUpSkipped("a request failed: " + e.HttpRequestError);
        }
        catch (TaskCanceledException)
        {
            logger.WarmUpSkipped("a request timed out");
        }
        finally
        {
            key.Close();
        }
    }

    /// <summary>
    /// Rounds of <see cref="WarmUpOptions.Concurrency"/> inference requests (the body-streaming path) and four times as
    /// many metadata requests (the per-request path, next to free for the workers), all at once, each round followed
    /// by a pause. Tiered compilation moves a method up only after a quiet spell and a count of calls, and then compiles
    /// it in the background, so a burst of requests leaves most of the path half-way; rounds with pauses let it finish.
    /// Done when two rounds in a row (after the first three) compiled fewer than <see cref="QuietMethods"/> methods, or
    /// at <see cref="WarmUpOptions.MaxDuration"/>. Throws <see cref="WarmUpFailedException"/> for an answer other than 200.
    /// </summary>
    private static async Task<int> WarmUpRoundsAsync(
        HttpClient client, Uri address, string model, byte[] body, WarmUpOptions o, CancellationToken cancellationToken)
    {
        var infer = new Uri(address, $"/v2/models/{model}/infer");
        var metadata = new Uri(address, $"/v2/models/{model}");
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(o.MaxDuration.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var (rounds, quiet) = (0, 0);
        while (System.Diagnostics.Stopwatch.GetTimestamp() < until && (rounds < 3 || quiet < 2))
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            var answers = await Task.WhenAll(
                Enumerable.Range(0, o.Concurrency).Select(_ => InferAsync(client, infer, body, cancellationToken))
                    .Concat(Enumerable.Range(0, MetadataPerInference * o.Concurrency).Select(_ => GetAsync(client, metadata, cancellationToken))));
            if (answers.FirstOrDefault(a => a != HttpStatusCode.OK) is var status && status != default)
            {
                throw new WarmUpFailedException($"a request was answered {(int)status}");
            }

            rounds++;
            await Task.Delay(RoundPause, cancellationToken);
            quiet = System.Runtime.JitInfo.GetCompiledMethodCount() - compiled < QuietMethods ? quiet + 1 : 0;
        }

        return rounds;
    }

    /// <summary>Metadata requests per inference request in a round.</summary>
    private const int MetadataPerInference = 4;

    /// <summary>Fewer methods than this compiled over a round and its pause: the JIT has settled.</summary>
    private const int QuietMethods = 8;

    /// <summary>Longer than the runtime's call-counting delay (100 ms), so promotions start and compile between rounds.</summary>
    private static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// The number of values in one input of the model (its metadata's only input, FP32, batch axis first) and the
    /// listening address that answered it (an h2c-only gRPC listener does not), asked of the gateway itself until a
    /// worker answers or <paramref name="wait"/> runs out; or null and why not.
    /// </summary>
    private static async Task<(Uri? Address, int? Length, string Why)> InputLengthAsync(
        HttpClient client, IReadOnlyList<Uri> addresses, string path, TimeSpan wait, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + wait;
        while (true)
        {
            var why = "";
            foreach (var address in addresses)
            {
                try
                {
                    using var response = await client.GetAsync(new Uri(address, path), cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                        using var metadata = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
                        var (length, problem) = LengthOf(metadata.RootElement);
                        return (address, length, problem);
                    }

                    // No worker up yet (503 from the gateway, 502/504 from a failed forward): wait for one. Anything
                    // else (a model the workers do not serve, a refusal) will not change by waiting.
                    why = $"the model's metadata was answered {(int)response.StatusCode}";
                    if (response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
                    {
                        return (null, null, why);
                    }

                    break;
                }
                catch (HttpRequestException e)
                {
                    // Not this listener (HTTP/2 only, say): the next one.
                    why = "the model's metadata request failed: " + e.HttpRequestError;
                }
                catch (JsonException)
                {
                    return (null, null, "the model's metadata is not JSON");
                }
            }

            if (DateTime.UtcNow >= until)
            {
                return (null, null, why + $" until the {wait.TotalSeconds:0.#} s wait for a worker ran out");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    private static (int? Length, string Why) LengthOf(JsonElement metadata)
    {
        if (!metadata.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() != 1)
        {
            return (null, "the model's metadata does not name exactly one input");
        }

        var input = inputs[0];
        if (!input.TryGetProperty("datatype", out var type) || type.GetString() != "FP32" || !input.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            return (null, "the model's input is not an FP32 tensor with a shape");
        }

        long length = 1;
        foreach (var dim in shape.EnumerateArray().Skip(1))
        {
            if (!dim.TryGetInt64(out var d) || d <= 0 || (length *= d) > 64_000_000)
            {
                return (null, "the model's input has no fixed shape beyond the batch axis");
            }
        }

        return ((int)length, "");
    }

    private static async Task<HttpStatusCode> GetAsync(HttpClient client, Uri uri, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> InferAsync(HttpClient client, Uri uri, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.Add("Inference-Header-Content-Length", "0");

        // Stat: a held batch never keeps it waiting, and the workers' routine lanes stay free for clients.
        request.Headers.Add("X-Ecg2Af-Priority", "stat");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return response.StatusCode;
    }
}

/// <summary>Part of <c>/health/ready</c>: unhealthy while the warm-up runs.</summary>
internal sealed class WarmUpHealthCheck(GatewayWarmUp warmUp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(warmUp.IsDone ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("warming up"));
}

internal static class WarmUpExtensions
{
    public static WebApplicationBuilder AddWarmUp(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WarmUpOptions>().BindConfiguration(WarmUpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<WarmUpKey>();
        builder.Services.AddSingleton<GatewayWarmUp>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayWarmUp>());
        builder.Services.AddHealthChecks().AddCheck<WarmUpHealthCheck>("warm-up");
        return builder;
    }
}

/// <summary>A warm-up request answered other than 200: the warm-up ends, the gateway reports ready cold.</summary>
internal sealed class WarmUpFailedException(string message) : Exception(message);

internal static partial class WarmUpLog
{
    [LoggerMessage(EventId = 30, Level = LogLevel.Information,
        Message = "Warmed up with {Inferences} inference and {MetadataRequests} metadata requests to {Model} through the gateway in {Rounds} rounds, {Ms} ms; reporting ready")]
    public static partial void WarmedUp(this ILogger logger, int inferences, int metadataRequests, int rounds, string model, long ms);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Gateway warm-up did not run ({Reason}); reporting ready cold")]
    public static partial void WarmUpSkipped(this ILogger logger, string reason);
}
