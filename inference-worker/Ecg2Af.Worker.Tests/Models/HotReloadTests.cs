using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Ecg2Af.Inference;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.Worker.Tests.Serving;
using Xunit.Abstractions;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.Models;

/// <summary>
/// Hot reload on a real worker while requests flow: version 2 is copied in file by file and takes over with no failed
/// request; a corrupt version 3 is refused and version 2 keeps serving; removing version 2 hands traffic back to
/// version 1, again with no failed request.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class HotReloadTests(StandInRepository repository, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Repository_VersionsAddedCorruptedAndRemovedWhileServing_ZeroFailedRequests()
    {
        var root = repository.Copy();
        await using var worker = await WorkerProcess.StartAsync(root, Settings.Of(
            ("Model__PollInterval", "00:00:00.250"), ("Model__SettleTime", "00:00:00.300")));
        var served = new ConcurrentQueue<(HttpStatusCode Status, string? Version, string? Error)>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 2).Select(c => Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                var response = await InferAsync(worker.Client, "/v2/models/ecg2af/infer", Binary(RandomEcg((c * 1000) + i++)));
                served.Enqueue((response.Status, response.Json["model_version"]?.ToString(), response.Json["error"]?.ToString()));
            }
        })).ToList();

        // Version 2, copied in the way a slow copy would arrive: model.json first, model.onnx in pieces.
        var staging = Path.Combine(Path.GetTempPath(), $"ecg2af-v2-{Guid.NewGuid():N}");
        StandInModel.Write(staging, seed: 2, name: "ecg2af", version: "2");
        var v2 = Directory.CreateDirectory(Path.Combine(root, "ecg2af", "2")).FullName;
        File.Copy(Path.Combine(staging, ModelFiles.Signature), Path.Combine(v2, ModelFiles.Signature));
        await CopySlowlyAsync(Path.Combine(staging, ModelFiles.Onnx), Path.Combine(v2, ModelFiles.Onnx));
        Directory.Delete(staging, recursive: true);
        await WaitForVersionAsync(worker, served, "2");

        // Version 3: a valid signature beside a model.onnx that is not a model.
        var v3 = Directory.CreateDirectory(Path.Combine(root, "ecg2af", "3")).FullName;
        var signature = ModelSignature.Load(Path.Combine(v2, ModelFiles.Signature)) with { Version = "3" };
        await File.WriteAllBytesAsync(Path.Combine(v3, ModelFiles.Onnx), new byte[4096]);
        signature.Save(Path.Combine(v3, ModelFiles.Signature));
        await worker.WaitUntilAsync(async () => await StateAsync(worker, "3") == "UNAVAILABLE", Patience, "version 3 to be refused");
        var (readyStatus, ready) = await GetAsync(worker.Client, "/v2/models/ecg2af/versions/3/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.False((bool)ready["ready"]!);
        Assert.True(await worker.MetricAsync("ecg2af_model_loads_total", "model=\"ecg2af\"", "outcome=\"refused\"") >= 1);
        var afterRefusal = served.Count;
        await worker.WaitUntilAsync(() => Task.FromResult(served.Count >= afterRefusal + 4), Patience, "requests after the refusal");
        Assert.All(served.Skip(afterRefusal), s => Assert.Equal("2", s.Version));
        var (_, metadata) = await GetAsync(worker.Client, "/v2/models/ecg2af");
        Assert.Equal(["1", "2"], metadata["versions"]!.AsArray().Select(v => (string)v!));

        // Removing version 2 hands traffic back to version 1; its in-flight requests finish on it.
        Directory.Delete(v2, recursive: true);
        await WaitForVersionAsync(worker, served, "1");

        await stop.CancelAsync();
        await Task.WhenAll(clients);
        output.WriteLine($"{served.Count} requests: " + string.Join(", ", served.GroupBy(s => s.Version).Select(g => $"v{g.Key} × {g.Count()}")));
        Assert.All(served, s => Assert.True(s.Status == HttpStatusCode.OK, $"{s.Status}: {s.Error}"));
        Assert.Contains(served, s => s.Version == "2");
    }

    private static async Task WaitForVersionAsync(WorkerProcess worker, ConcurrentQueue<(HttpStatusCode Status, string? Version, string? Error)> served, string version)
    {
        var seen = served.Count;
        await worker.WaitUntilAsync(
            () => Task.FromResult(served.Skip(seen).Count(s => s.Version == version) >= 2), Patience, $"version {version} to serve");
    }

    private static async Task<string?> StateAsync(WorkerProcess worker, string version)
    {
        using var response = await worker.Client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), null);
        var index = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        return index.FirstOrDefault(e => (string)e!["name"]! == "ecg2af" && (string)e["version"]! == version)?["state"]?.ToString();
    }

    private static async Task CopySlowlyAsync(string source, string target)
    {
        var bytes = await File.ReadAllBytesAsync(source);
        await using var stream = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        var chunk = (bytes.Length / 8) + 1;
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)));
            await stream.FlushAsync();
            await Task.Delay(60);
        }
    }
}
