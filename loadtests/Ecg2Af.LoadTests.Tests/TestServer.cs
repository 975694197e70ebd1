using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ecg2Af.LoadTests.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a free port, standing in for the gateway in the runner's tests:
/// <c>/delay/{ms}</c> answers 200 after a delay, <c>/status/{code}</c> answers that code at once. It records when each
/// request arrived, from which address, and the most requests it held at once.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _inFlight;
    private int _maxInFlight;

    private TestServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public ConcurrentQueue<long> Arrivals { get; } = new();

    public ConcurrentDictionary<string, int> Sources { get; } = new();

    /// <summary>What each <c>POST /upload/{ms}</c> carried: its <c>ecg</c> files (name:length) and its name field.</summary>
    public ConcurrentQueue<string> Uploads { get; } = new();

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public static async Task<TestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TestServer(app);
        app.Use(async (context, next) =>
        {
            server.Arrivals.Enqueue(Stopwatch.GetTimestamp());
            server.Sources.AddOrUpdate(context.Connection.RemoteIpAddress!.ToString(), 1, (_, n) => n + 1);
            var now = Interlocked.Increment(ref server._inFlight);
            int seen;
            while (now > (seen = Volatile.Read(ref server._maxInFlight)) && Interlocked.CompareExchange(ref server._maxInFlight, now, seen) != seen)
            {
            }

            try
            {
                context.Response.Headers["X-Ecg2Af-Worker"] = "test-worker";
                await next(context);
            }
            finally
            {
                Interlocked.Decrement(ref server._inFlight);
            }
        });
        app.MapGet("/delay/{ms:int}", async (int ms) =>
        {
            await Task.Delay(ms);
            return Results.Text("ok");
        });
        app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
        app.MapPost("/upload/{ms:int}", async (HttpRequest request, int ms) =>
        {
            // A multipart upload as the compare command sends it: the files under "ecg", the fields beside them.
            var form = await request.ReadFormAsync();
            server.Uploads.Enqueue($"{string.Join("+", form.Files.GetFiles("ecg").Select(f => $"{f.FileName}:{f.Length}"))} name={form["name"]}");
            await Task.Delay(ms);
            return Results.Text("ok");
        }).DisableAntiforgery();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
