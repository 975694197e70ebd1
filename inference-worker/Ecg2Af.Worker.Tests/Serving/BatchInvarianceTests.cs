using System.Net;
using Xunit.Abstractions;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.Serving;

/// <summary>
/// Batch invariance on the real stand-in over HTTP: a worker that holds partial batches open for up to a minute (max batch
/// 32; a full batch goes at once, so a slow machine's late senders still join it) serves one ECG alone (as a stat
/// request, which does not wait), then the same ECG among 32 concurrent different ones in one batch of 32. The outputs must
/// agree within 1e-6 (on the CPU provider they are bit-identical; the test reports the largest difference).
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class BatchInvarianceTests(StandInRepository repository, ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    [Fact]
    public async Task Infer_SameEcgAloneAndInsideBatchOf32_IdenticalOutputs()
    {
        await using var worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(
            ("Serving__MaxBatchSize", 32), ("Serving__MaxQueueDelayMs", 60_000), ("Serving__QueueCapacity__Routine", 64),
            ("Serving__DefaultTimeout", "00:05:00")));
        var ecg = RandomEcg(seed: 100);

        var alone = await InferAsync(worker.Client, "/v2/models/ecg2af/infer", Binary(ecg), ("X-Ecg2Af-Priority", "stat"));
        Assert.Equal(HttpStatusCode.OK, alone.Status);
        Assert.Equal(1, alone.BatchSize);

        var crowd = await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            InferAsync(worker.Client, "/v2/models/ecg2af/infer", Binary(i == 17 ? ecg : RandomEcg(seed: 200 + i)))));
        Assert.All(crowd, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        var inBatch = crowd[17];
        Assert.Equal(32, inBatch.BatchSize);

        var largest = 0.0;
        foreach (var name in alone.Binary.Keys)
        {
            var a = alone.Output(name);
            var b = inBatch.Output(name);
            Assert.Equal(a.Length, b.Length);
            largest = Math.Max(largest, a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max());
        }

        output.WriteLine($"largest |alone - batch of 32| = {largest:E3}");
        Assert.True(largest <= Tolerance, $"outputs differ by {largest:E3}");

        // The other 31 are genuinely different inputs, so the batch was not trivially uniform.
        Assert.NotEqual(alone.Output("output_age_from_wide_csv_continuous"), crowd[3].Output("output_age_from_wide_csv_continuous"));
    }
}
