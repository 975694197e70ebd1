using System.Diagnostics;
using System.Net;
using Ecg2Af.Deploy.Tests.Support;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests;

/// <summary>
/// Issue #8 acceptance: one prediction through the gateway is one trace, with the gateway's server and client
/// spans and the worker's server, parse, preprocess, queue_wait, inference and decode spans, exported over OTLP by
/// both processes and linked by the W3C trace context the gateway sends the worker.
/// </summary>
[Collection(ObservedClusterCollection.Name)]
public sealed class TracingTests(ObservedCluster cluster)
{
    private const string Gateway = "ecg2af-gateway";
    private const string Worker = "ecg2af-inference-worker";

    [Fact]
    public async Task Prediction_ThroughGateway_OneTraceWithGatewayAndWorkerSpansIncludingInference()
    {
        // The caller starts the trace (W3C traceparent, sampled), so the test knows its id.
        var traceId = Convert.ToHexStringLower(RandomBytes(16));
        var callerSpan = Convert.ToHexStringLower(RandomBytes(8));
        using var client = LoopbackClients.Create(LoopbackClients.Address(70));
        using var request = ObservedCluster.Prediction(cluster.Cluster.GatewayUrl, ObservedCluster.SinusEcg);
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        string[] workerSteps = ["parse", "preprocess", "queue_wait", "inference", "decode"];
        var watch = Stopwatch.StartNew();
        List<ReceivedSpan> trace;
        do
        {
            await Task.Delay(200);
            trace = [.. cluster.Otlp.Spans.Where(s => s.TraceId == traceId)];
        }
        while (watch.Elapsed < TimeSpan.FromSeconds(30) && !Complete(trace, workerSteps));

        var described = string.Join('\n', trace);
        var gatewayServer = Assert.Single(trace, s => s.Service == Gateway && s.Kind == ReceivedSpan.KindServer);
        var gatewayClient = Assert.Single(trace, s => s.Service == Gateway && s.Kind == ReceivedSpan.KindClient);
        var workerServer = Assert.Single(trace, s => s.Service == Worker && s.Kind == ReceivedSpan.KindServer);
        Assert.Equal(callerSpan, gatewayServer.ParentSpanId);
        Assert.Equal(gatewayServer.SpanId, gatewayClient.ParentSpanId);
        Assert.True(workerServer.ParentSpanId == gatewayClient.SpanId, $"the worker's span is not the forward's child:\n{described}");
        foreach (var step in workerSteps)
        {
            var span = Assert.Single(trace, s => s.Name == step);
            Assert.Equal(Worker, span.Service);
            Assert.Equal("Ecg2Af.Inference", span.Scope);
            Assert.Equal(workerServer.SpanId, span.ParentSpanId);
        }

        var inference = Assert.Single(trace, s => s.Name == "inference");
        Assert.Equal("ecg2af", inference.Attributes["ecg2af.model"]);
        Assert.True(int.Parse(inference.Attributes["ecg2af.batch_size"], System.Globalization.CultureInfo.InvariantCulture) >= 1, described);
        Assert.Equal("ge-muse-xml", Assert.Single(trace, s => s.Name == "parse").Attributes["ecg.format"]);
    }

    [Fact]
    public void AllExportedSpans_AfterTraffic_NoPersonalDataNoHealthProbes()
    {
        var spans = cluster.Otlp.Spans.ToList();
        Assert.Contains(spans, s => s.Service == Worker && s.Name == "inference");

        // The submitter's name and email travelled in every prediction form; no span carries them.
        Assert.DoesNotContain(spans, s => s.ToString().Contains(ObservedCluster.Token, StringComparison.OrdinalIgnoreCase));

        // Health checks, scrapes and the gateway's own active health probes are not traced.
        Assert.DoesNotContain(spans, s => s.Attributes.TryGetValue("url.path", out var path)
            && (path.StartsWith("/health", StringComparison.Ordinal) || path.StartsWith("/metrics", StringComparison.Ordinal)
                || path.StartsWith("/v2/health", StringComparison.Ordinal)));
        Assert.DoesNotContain(spans, s => s.Kind == ReceivedSpan.KindClient && s.ParentSpanId.Length == 0);
    }

    /// <summary>Each process exports its spans in batches as they end (server spans last): wait for all of them.</summary>
    private static bool Complete(List<ReceivedSpan> trace, string[] workerSteps) =>
        workerSteps.All(n => trace.Any(s => s.Name == n))
        && trace.Any(s => s.Service == Gateway && s.Kind == ReceivedSpan.KindServer)
        && trace.Any(s => s.Service == Gateway && s.Kind == ReceivedSpan.KindClient)
        && trace.Any(s => s.Service == Worker && s.Kind == ReceivedSpan.KindServer);

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
