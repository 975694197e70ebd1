using System.Diagnostics;
using System.Net;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.Serving;

/// <summary>
/// A worker whose lanes are small (routine 2, batch 16, stat 4 items) and which holds a partial batch open for
/// <see cref="Hold"/> (max batch 8). Held requests sit in the queue, not in compute, for as long as the test needs them
/// there, so the admission outcomes below never hang on how fast this machine drains a backlog. The strict lane order
/// under a busy inference loop is proven on the scheduler itself (<c>InferenceSchedulerTests</c>, a gated real model).
/// </summary>
public sealed class HoldingWorkerFixture(StandInRepository repository) : IAsyncLifetime
{
    // Long enough that on a loaded machine the refused requests still arrive while the admitted ones are held.
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(15);

    internal WorkerProcess Worker { get; private set; } = null!;

    public async Task InitializeAsync() => Worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(
        ("Serving__MaxBatchSize", 8),
        ("Serving__MaxQueueDelayMs", Hold.TotalMilliseconds),
        ("Serving__QueueCapacity__Routine", 2),
        ("Serving__QueueCapacity__Batch", 16),
        ("Serving__QueueCapacity__Stat", 4),
        ("Serving__DefaultTimeout", "00:01:00"),
        ("Serving__ShedUnreachableDeadlines", false)));

    public async Task DisposeAsync() => await Worker.DisposeAsync();
}

[Collection(WorkerProcessCollection.Name)]
public sealed class AdmissionTests(HoldingWorkerFixture fixture) : IClassFixture<HoldingWorkerFixture>
{
    private const string Infer = "/v2/models/ecg2af/infer";

    private WorkerProcess Worker => fixture.Worker;

    [Fact]
    public async Task Infer_LaneFull_503WithRetryAfterWhileAdmittedRequestsComplete()
    {
        var admitted = Enumerable.Range(0, 2).Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(i)))).ToList();
        await QueuedAsync("routine", 2);

        var refused = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(10 + i)))));
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("queue is full", (string)response.Json["error"]!, StringComparison.Ordinal);
        }

        var done = await Task.WhenAll(admitted);
        Assert.All(done, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.All(done, r => Assert.Equal(4, r.Json["outputs"]!.AsArray().Count));
        Assert.True(await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"queue_full\"") >= 3);
    }

    [Fact]
    public async Task LaneFull_RefusedBeforeTheBodyIsParsed()
    {
        var admitted = Enumerable.Range(0, 2).Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(60 + i)))).ToList();
        await QueuedAsync("routine", 2);
        var parses = await Worker.MetricAsync("ecg2af_worker_parses_total");

        // OIP requests (JSON and binary tensors) and prediction uploads, all for the full routine lane.
        var refused = await Task.WhenAll(
            InferAsync(Worker.Client, Infer, Json(RandomEcg(70))),
            InferAsync(Worker.Client, Infer, Binary(RandomEcg(71))));
        using var prediction = await Worker.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), Hardening.HostileInputTests.MuseForm());
        // A declared 8 MB body of which nothing is sent: the answer comes without the worker waiting for it.
        var (rawStatus, _, _) = await Ecg2Af.LocalCluster.HostileEnvelopes.SendRawAsync(Worker.Url, Infer, [new("Content-Type", "application/json"), new("Authorization", "Bearer " + Worker.ApiKey.Key)],
            "{"u8.ToArray(), 8_000_000, endBody: false);

        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("not read", (string)response.Json["error"]!, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, prediction.StatusCode);
        Assert.True(prediction.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(503, rawStatus);
        Assert.Equal(parses, await Worker.MetricAsync("ecg2af_worker_parses_total"));

        Assert.All(await Task.WhenAll(admitted), r => Assert.Equal(HttpStatusCode.OK, r.Status));
        var served = await Worker.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), Hardening.HostileInputTests.MuseForm());
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(parses + 1, await Worker.MetricAsync("ecg2af_worker_parses_total"));
    }

    [Fact]
    public async Task Infer_DeadlinePassesWhileQueued_504AndNeverComputed()
    {
        var runsBefore = await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\"");

        var expired = await InferAsync(Worker.Client, Infer, Binary(RandomEcg(30)), ("X-Ecg2Af-Priority", "batch"), ("X-Ecg2Af-Deadline-Ms", "300"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, expired.Status);
        Assert.Contains("not computed", (string)expired.Json["error"]!, StringComparison.Ordinal);
        Assert.Equal(runsBefore, await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\""));
        Assert.True(await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"deadline_exceeded\"") >= 1);
    }

    [Fact]
    public async Task Infer_ClientGoesAwayWhileQueued_LeavesTheQueueAndIsNeverComputed()
    {
        var runsBefore = await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\"");
        var cancelledBefore = await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"cancelled\"");

        using var client = new CancellationTokenSource();
        var abandoned = InferAsync(Worker.Client, Infer, Binary(RandomEcg(90)), client.Token, ("X-Ecg2Af-Priority", "batch"));
        await QueuedAsync("batch", 1);
        await client.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        await Worker.WaitUntilAsync(
            async () => await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"cancelled\"") > cancelledBefore,
            TimeSpan.FromSeconds(30), "the worker to drop the abandoned request");
        Assert.Equal(0, await Worker.MetricAsync("ecg2af_inference_queue_depth", "priority=\"batch\""));
        Assert.Equal(runsBefore, await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\""));
    }

    [Fact]
    public async Task Infer_StatWhileBatchWorkIsHeld_AnsweredAtOnceTakingTheHeldWorkAlong()
    {
        var held = Enumerable.Range(0, 3)
            .Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(40 + i)), ("X-Ecg2Af-Priority", "batch")))
            .ToList();
        await QueuedAsync("batch", 3);

        var clock = Stopwatch.StartNew();
        var stat = await InferAsync(Worker.Client, Infer, Binary(RandomEcg(50), parameters: new() { ["priority"] = "stat" }));
        var waited = clock.Elapsed;

        // The batch work alone would have waited out the hold; the stat request dispatches at once and takes it along.
        Assert.Equal(HttpStatusCode.OK, stat.Status);
        Assert.Equal("stat", (string)stat.Json["parameters"]!["priority"]!);
        Assert.Equal(4, stat.BatchSize);
        Assert.True(waited < HoldingWorkerFixture.Hold, $"the stat request waited {waited}");
        Assert.All(await Task.WhenAll(held), r => Assert.Equal(4, r.BatchSize));
    }

    private Task QueuedAsync(string lane, int items) => Worker.WaitUntilAsync(
        async () => await Worker.MetricAsync("ecg2af_inference_queue_depth", $"priority=\"{lane}\"") >= items,
        TimeSpan.FromSeconds(30), $"{items} item(s) queued in the {lane} lane");
}
