using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Inference;

namespace Ecg2Af.Client.Tests;

/// <summary>
/// The gRPC retry policy is the unit under test here, so a fake HTTP handler plays the service: it answers
/// trailers-only refusals (as the gateway and the worker do when overloaded) with their retry hints, then a real
/// protobuf answer. (The same client against the real gateway: <see cref="GrpcClientTests"/>.)
/// </summary>
public class GrpcRetryTests
{
    [Fact]
    public async Task Unavailable_WithPushback_RetriedAfterTheHint_NotAfterTheFallback()
    {
        var service = new FakeService(Refusal(StatusCode.Unavailable, ("grpc-retry-pushback-ms", "300")), Live());
        using var client = Client(service, retryDelay: TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();

        Assert.True(await client.IsModelReadyAsync("ecg2af"));

        Assert.Equal(2, service.Calls);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
        Assert.All(service.Authorization, a => Assert.Equal("Bearer test-key", a));
    }

    [Fact]
    public async Task ResourceExhausted_WithRetryAfterSeconds_Retried()
    {
        var service = new FakeService(Refusal(StatusCode.ResourceExhausted, ("retry-after", "1")), Live());
        using var client = Client(service, retryDelay: TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();

        Assert.True(await client.IsModelReadyAsync("ecg2af"));

        Assert.Equal(2, service.Calls);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Unavailable_EveryTime_ThrowsAfterTheRetries_WithTheHint()
    {
        var service = new FakeService(Enumerable.Repeat(Refusal(StatusCode.Unavailable, ("grpc-retry-pushback-ms", "10")), 10).ToArray());
        using var client = Client(service, maxRetries: 2);

        var e = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => client.IsModelReadyAsync("ecg2af"));

        Assert.Equal(3, service.Calls);
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal(TimeSpan.FromMilliseconds(10), e.RetryAfter);
        Assert.Contains("overloaded", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NegativePushback_OrInvalidArgument_NotRetried()
    {
        var pushedBack = new FakeService(Refusal(StatusCode.Unavailable, ("grpc-retry-pushback-ms", "-1")), Live());
        using (var client = Client(pushedBack))
        {
            await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => client.IsModelReadyAsync("ecg2af"));
        }

        var invalid = new FakeService(Refusal(StatusCode.InvalidArgument), Live());
        using (var client = Client(invalid))
        {
            var e = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => client.IsModelReadyAsync("ecg2af"));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }

        Assert.Equal(1, pushedBack.Calls);
        Assert.Equal(1, invalid.Calls);
    }

    [Fact]
    public async Task HintBeyondTheDeadline_DeadlineExceeded_WithoutWaitingItOut()
    {
        var service = new FakeService(Refusal(StatusCode.Unavailable, ("grpc-retry-pushback-ms", "20000")), Live());
        using var client = Client(service, deadline: TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => client.IsModelReadyAsync("ecg2af"));

        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed}");
        Assert.Equal(1, service.Calls);
    }

    private static Ecg2AfGrpcClient Client(FakeService service, int maxRetries = 5, TimeSpan? retryDelay = null, TimeSpan? deadline = null) =>
        new(new Ecg2AfClientOptions
        {
            BaseAddress = new Uri("http://127.0.0.1:9/"),
            ApiKey = "test-key",
            MaxRetries = maxRetries,
            RetryDelay = retryDelay ?? TimeSpan.FromMilliseconds(10),
            Deadline = deadline ?? TimeSpan.FromMinutes(1),
        }, service);

    private static Func<HttpResponseMessage> Refusal(StatusCode code, params (string Key, string Value)[] hints) => () =>
    {
        // Trailers-only: the status and the hints come as the answer's headers, with no body.
        var response = Grpc();
        response.Headers.Add("grpc-status", ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture));
        response.Headers.Add("grpc-message", code == StatusCode.Unavailable ? "worker overloaded" : "refused");
        foreach (var (key, value) in hints)
        {
            response.Headers.Add(key, value);
        }

        response.Content = new ByteArrayContent([]);
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        return response;
    };

    private static Func<HttpResponseMessage> Live() => () =>
    {
        var message = new ModelReadyResponse { Ready = true }.ToByteArray();
        var frame = new byte[5 + message.Length];
        frame[1] = (byte)(message.Length >> 24);
        frame[2] = (byte)(message.Length >> 16);
        frame[3] = (byte)(message.Length >> 8);
        frame[4] = (byte)message.Length;
        message.CopyTo(frame, 5);
        var response = Grpc();
        response.Content = new ByteArrayContent(frame);
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        response.TrailingHeaders.Add("grpc-status", "0");
        return response;
    };

    private static HttpResponseMessage Grpc() => new(HttpStatusCode.OK) { Version = HttpVersion.Version20 };

    /// <summary>Answers each call with the next of its scripted answers and remembers what it was sent.</summary>
    private sealed class FakeService(params Func<HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public List<string> Authorization { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls) - 1;
            lock (Authorization)
            {
                Authorization.Add(request.Headers.Authorization?.ToString() ?? "");
            }

            var answer = answers[Math.Min(call, answers.Length - 1)]();
            answer.RequestMessage = request;
            return Task.FromResult(answer);
        }
    }
}
