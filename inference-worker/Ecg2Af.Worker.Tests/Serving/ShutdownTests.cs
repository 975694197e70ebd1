using System.Net;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.Serving;

[Collection(WorkerProcessCollection.Name)]
public sealed class ShutdownTests(StandInRepository repository)
{
    [Fact]
    public async Task Sigterm_WorkQueued_ReadinessTurns503NewWorkRefusedAndQueuedWorkFinishes()
    {
        // The worker holds partial batches open for a minute, so all five requests are still queued at SIGTERM however fast
        // this machine computes; draining dispatches them at once.
        await using var worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(
            ("Serving__MaxBatchSize", 8), ("Serving__MaxQueueDelayMs", 60_000), ("Serving__DefaultTimeout", "00:02:00"),
            ("Serving__ShutdownReadinessDelay", "00:00:10"), ("Serving__DrainTimeout", "00:01:00")));
        var queued = Enumerable.Range(0, 5).Select(i => InferAsync(worker.Client, "/v2/models/ecg2af/infer", Binary(RandomEcg(60 + i)))).ToList();
        await worker.WaitUntilAsync(
            async () => await worker.MetricAsync("ecg2af_inference_queue_depth") >= 5, TimeSpan.FromSeconds(30), "queued work");

        // The listener stays open for the readiness delay (10 s: room for a loaded machine); the late body is ready before.
        var lateBody = Binary(RandomEcg(70));
        worker.Terminate();

        await worker.WaitUntilAsync(
            async () => (await GetAsync(worker.Client, "/v2/health/ready")).Status == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(8), "readiness to turn 503");
        using (var ready = await worker.Client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        var late = await InferAsync(worker.Client, "/v2/models/ecg2af/infer", lateBody);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.Status);
        Assert.NotNull(late.Headers.RetryAfter);
        Assert.Contains("shutting down", (string)late.Json["error"]!, StringComparison.Ordinal);

        var results = await Task.WhenAll(queued);
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        await worker.WaitUntilAsync(() => Task.FromResult(worker.Process.HasExited), TimeSpan.FromSeconds(60), "the worker to exit");
    }
}
