using System.Net;
using Ecg2Af.Worker.Tests.InferenceProtocol;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.Serving;

/// <summary>
/// A worker that runs one ECG per batch with small lanes (routine 2, batch 8, stat 4 items), so a handful of real
/// stand-in requests saturate it.
/// </summary>
public sealed class SmallQueueWorkerFixture(StandInRepository repository) : IAsyncLifetime
{
    internal WorkerProcess Worker { get; private set; } = null!;

    public async Task InitializeAsync() => Worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(
        ("Serving__MaxBatchSize", 1),
        ("Serving__QueueCapacity__Routine", 2),
        ("Serving__QueueCapacity__Batch", 16),
        ("Serving__QueueCapacity__Stat", 4),
        ("Serving__ShedUnreachableDeadlines", false)));

    public async Task DisposeAsync() => await Worker.DisposeAsync();
}

[Collection(WorkerProcessCollection.Name)]
public sealed class AdmissionTests(SmallQueueWorkerFixture fixture) : IClassFixture<SmallQueueWorkerFixture>
{
    private const string Infer = "/v2/models/ecg2af/infer";

    private WorkerProcess Worker => fixture.Worker;

    [Fact]
    public async Task Infer_FloodBeyondQueueBound_503WithRetryAfterWhileAdmittedRequestsComplete()
    {
        var flood = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(i)))));

        var ok = flood.Where(r => r.Status == HttpStatusCode.OK).ToList();
        var refused = flood.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(flood.Length, ok.Count + refused.Count);
        Assert.NotEmpty(refused);
        Assert.True(ok.Count >= 3, $"{ok.Count} admitted");
        foreach (var response in refused)
        {
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("queue is full", (string)response.Json["error"]!, StringComparison.Ordinal);
        }

        Assert.All(ok, r => Assert.Equal(4, r.Json["outputs"]!.AsArray().Count));
    }

    [Fact]
    public async Task Infer_DeadlinePassesWhileQueued_504AndNeverComputed()
    {
        var runsBefore = await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\"");
        var backlog = Enumerable.Range(0, 4)
            .Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(20 + i)), ("X-Ecg2Af-Priority", "batch")))
            .ToList();
        await Worker.WaitUntilAsync(
            async () => await Worker.MetricAsync("ecg2af_inference_queue_depth", "priority=\"batch\"") >= 2, TimeSpan.FromSeconds(30), "a queued backlog");

        var expired = await InferAsync(Worker.Client, Infer, Binary(RandomEcg(30)), ("X-Ecg2Af-Priority", "batch"), ("X-Ecg2Af-Deadline-Ms", "100"));
        var done = await Task.WhenAll(backlog);

        Assert.Equal(HttpStatusCode.GatewayTimeout, expired.Status);
        Assert.Contains("not computed", (string)expired.Json["error"]!, StringComparison.Ordinal);
        Assert.All(done, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(runsBefore + 4, await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\""));
        Assert.True(await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"deadline_exceeded\"") >= 1);
    }

    [Fact]
    public async Task Infer_ClientGoesAwayWhileQueued_LeavesTheQueueAndIsNeverComputed()
    {
        var runsBefore = await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\"");
        var cancelledBefore = await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"cancelled\"");
        var backlog = Enumerable.Range(0, 8)
            .Select(i => InferAsync(Worker.Client, Infer, Binary(RandomEcg(80 + i)), ("X-Ecg2Af-Priority", "batch")))
            .ToList();
        await Worker.WaitUntilAsync(
            async () => await Worker.MetricAsync("ecg2af_inference_queue_depth", "priority=\"batch\"") >= 6, TimeSpan.FromSeconds(30), "a queued backlog");

        // Behind six or more queued stand-in runs, the request is still waiting when its client hangs up.
        using var client = new CancellationTokenSource();
        var abandoned = InferAsync(Worker.Client, Infer, Binary(RandomEcg(90)), client.Token, ("X-Ecg2Af-Priority", "batch"));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await client.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        await Worker.WaitUntilAsync(
            async () => await Worker.MetricAsync("ecg2af_inference_requests_total", "outcome=\"cancelled\"") > cancelledBefore,
            TimeSpan.FromSeconds(30), "the worker to drop the abandoned request");
        Assert.All(await Task.WhenAll(backlog), r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(runsBefore + 8, await Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\""));
    }

    [Fact]
    public async Task Infer_StatBehindBatchBacklog_OvertakesIt()
    {
        var finished = new List<string>();
        async Task Track(string name, Task<OipResponse> request)
        {
            var response = await request;
            Assert.Equal(HttpStatusCode.OK, response.Status);
            lock (finished)
            {
                finished.Add(name);
            }
        }

        var backlog = Enumerable.Range(0, 8)
            .Select(i => Track($"batch-{i}", InferAsync(Worker.Client, Infer, Binary(RandomEcg(40 + i)), ("X-Ecg2Af-Priority", "batch"))))
            .ToList();
        await Worker.WaitUntilAsync(
            async () => await Worker.MetricAsync("ecg2af_inference_queue_depth", "priority=\"batch\"") >= 5, TimeSpan.FromSeconds(30), "a queued backlog");

        var stat = InferAsync(Worker.Client, Infer, Binary(RandomEcg(50), parameters: new() { ["priority"] = "stat" }));
        await Task.WhenAll([Track("stat", stat), .. backlog]);

        // Strict lanes: the stat request runs as soon as the batch in progress ends, ahead of every queued batch item;
        // at least five were queued when it was sent, each needing a full stand-in run.
        var after = finished.Count - finished.IndexOf("stat") - 1;
        Assert.True(after >= 3, $"completion order: {string.Join(", ", finished)}");
        var response = await stat;
        Assert.Equal("stat", (string)response.Json["parameters"]!["priority"]!);
    }
}
