using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ecg2Af.LocalCluster;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using Xunit.Abstractions;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// Issue #14 acceptance, gRPC half: a stock client (stubs generated in this assembly by Grpc.Tools from
/// protos/grpc_predict_v2.proto) talks the Open Inference Protocol to real workers through the real gateway's h2c
/// listener, with real ECGs preprocessed by the REST preprocess endpoint.
/// </summary>
[Collection(ClusterCollection.Name)]
public class GrpcThroughGatewayTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const string Model = "ecg2af";

    /// <summary>Real ECGs from ../shared, each sent as the parts of one upload.</summary>
    private static readonly string[][] Records =
    [
        ["wfdb/00001_lr.hea", "wfdb/00001_lr.dat"],
        ["muse-xml/muse-sinus.xml"],
        ["hl7-aecg/Example_aECG.xml"],
    ];

    private Uri GrpcGateway => fixture.Cluster.GatewayGrpcUrl;

    [Fact]
    public async Task StockClient_LiveReadyMetadataInfer_Batch1AndBatch4_EqualRestOutputs()
    {
        using var channel = Channel(IPAddress.Loopback);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        Assert.True((await client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = Model });
        Assert.Equal(Model, metadata.Name);
        var input = Assert.Single(metadata.Inputs);
        Assert.Equal("FP32", input.Datatype);
        Assert.Equal([-1L, 5000, 12], input.Shape);
        Assert.NotEmpty(metadata.Outputs);

        using var http = fixture.Cluster.ApiKey.Authorize(new HttpClient());
        var tensors = new List<float[]>();
        foreach (var record in Records)
        {
            tensors.Add(await PreprocessAsync(http, record));
        }

        // Batch 1: every ECG alone, against the REST OIP answer for the same tensor.
        var rest = new List<Dictionary<string, float[]>>();
        for (var i = 0; i < tensors.Count; i++)
        {
            rest.Add(await RestInferAsync(http, tensors[i], metadata.Inputs[0].Name));
            var single = await client.ModelInferAsync(InferRequest(metadata.Inputs[0].Name, [tensors[i]]));
            AssertOutputsEqual(rest[i], Outputs(single), row: 0, rows: 1);
        }

        // Batch 4 in one request: rows come back in order, each equal to its batch-1 REST answer.
        int[] picks = [0, 1, 2, 0];
        var batch = await client.ModelInferAsync(InferRequest(metadata.Inputs[0].Name, [.. picks.Select(p => tensors[p])]));
        var outputs = Outputs(batch);
        Assert.All(batch.Outputs, o => Assert.Equal(4, o.Shape[0]));
        for (var row = 0; row < picks.Length; row++)
        {
            AssertOutputsEqual(rest[picks[row]], outputs, row, rows: 4);
        }

        Assert.Equal("stand-in", batch.Parameters["weights"].StringParam);
    }

    [Fact]
    public async Task SixtyFourConcurrentCallsOnOneChannel_AllSucceed()
    {
        using var http = fixture.Cluster.ApiKey.Authorize(new HttpClient());
        var tensor = await PreprocessAsync(http, Records[0]);
        using var channel = Channel(IPAddress.Loopback);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = InferRequest("input_ecg_5000_std_continuous", [tensor]);
        var calls = Enumerable.Range(0, 64).Select(async _ =>
        {
            var response = await client.ModelInferAsync(request, deadline: DateTime.UtcNow.AddMinutes(2));
            return Outputs(response);
        });
        var results = await Task.WhenAll(calls);
        Assert.Equal(64, results.Length);
        Assert.All(results, r => AssertOutputsEqual(results[0], r, row: 0, rows: 1));
    }

    [Fact]
    public async Task BadShape_InvalidArgument_UnknownModel_NotFound_NonFinite_InvalidArgument()
    {
        using var channel = Channel(IPAddress.Loopback);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var shape = new ModelInferRequest { ModelName = Model };
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = "input_ecg_5000_std_continuous", Datatype = "FP32" };
        tensor.Shape.AddRange([1, 2500, 12]);
        shape.Inputs.Add(tensor);
        shape.RawInputContents.Add(ByteString.CopyFrom(new byte[2500 * 12 * 4]));
        var bad = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(shape).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("5000", bad.Status.Detail, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            client.ModelInferAsync(InferRequest("input_ecg_5000_std_continuous", [new float[60_000]], model: "no-such-model")).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var unknownMetadata = await Assert.ThrowsAsync<RpcException>(() => client.ModelMetadataAsync(new ModelMetadataRequest { Name = "no-such-model" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknownMetadata.StatusCode);

        var nan = new float[60_000];
        nan[17] = float.NaN;
        var nonFinite = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(InferRequest("input_ecg_5000_std_continuous", [nan])).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, nonFinite.StatusCode);
    }

    [Fact]
    public async Task ClientIpStickiness_GrpcClientsLandOnTheirRestWorker()
    {
        // Each address's gRPC calls go to the same worker as its REST requests (same destination ids, same hash).
        var homes = await fixture.HomesAsync();
        const int clients = 40;
        var mismatches = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, clients), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            using var channel = Channel(LoopbackClients.Address(i));
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            for (var round = 0; round < 3; round++)
            {
                var worker = await WorkerOfAsync(client);
                if (worker != homes[i])
                {
                    lock (mismatches)
                    {
                        mismatches.Add($"client {i} round {round}: {worker} instead of {homes[i]}");
                    }
                }
            }
        });
        Assert.Empty(mismatches);
        Assert.True(homes.Take(clients).Distinct().Count() > 1, "the clients should spread over more than one worker");
    }

    [Fact]
    public async Task KillWorker_UnderGrpcLoad_NoFailedCalls_ItsClientsMoveToTheirNextWorker()
    {
        const int victimIndex = 2;
        const int clients = 24;
        var homes = await fixture.HomesAsync();
        var victim = LocalCluster.LocalCluster.WorkerId(victimIndex);
        var channels = Enumerable.Range(0, clients).Select(i => Channel(LoopbackClients.Address(i))).ToArray();
        var failures = new List<string>();
        var answeredByVictimAfterKill = 0;
        var calls = 0;
        var killed = false;
        try
        {
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
            {
                var client = new GRPCInferenceService.GRPCInferenceServiceClient(channels[i]);
                while (!stop.IsCancellationRequested)
                {
                    var wasKilled = Volatile.Read(ref killed);
                    try
                    {
                        var worker = await WorkerOfAsync(client);
                        Interlocked.Increment(ref calls);
                        if (wasKilled && worker == victim)
                        {
                            Interlocked.Increment(ref answeredByVictimAfterKill);
                        }
                    }
                    catch (RpcException e)
                    {
                        lock (failures)
                        {
                            failures.Add($"client {i}: {e.StatusCode} {e.Status.Detail}");
                        }
                    }
                }
            })).ToArray();

            await Task.Delay(TimeSpan.FromSeconds(1));
            await fixture.Cluster.KillWorkerAsync(victimIndex);
            Volatile.Write(ref killed, true);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }

            await fixture.RestoreWorkerAsync(victimIndex);
        }

        output.WriteLine($"{calls} gRPC calls, {failures.Count} failed; victim {victim} served {homes.Take(clients).Count(h => h == victim)} of the clients");
        Assert.True(homes.Take(clients).Any(h => h == victim), "some client must live on the victim");
        Assert.Empty(failures);
        Assert.Equal(0, answeredByVictimAfterKill);
    }

    [Fact]
    public async Task GatewayRefusal_IsAGrpcStatus_WithRetryHint()
    {
        // A gateway whose rate limit allows one call answers the second with RESOURCE_EXHAUSTED and when to retry,
        // not with an HTTP 429 the client would misread.
        var port = LocalCluster.LocalCluster.FreePort();
        await using var gateway = await fixture.Cluster.StartGatewayAsync(new Dictionary<string, string>
        {
            ["Gateway__GrpcPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__RateLimit__TokenLimit"] = "1",
            ["Gateway__RateLimit__TokensPerPeriod"] = "1",
            ["Gateway__RateLimit__ReplenishmentPeriod"] = "00:01:00",
        });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = LoopbackClients.CreateHandler(IPAddress.Loopback) });
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await client.ServerLiveAsync(new ServerLiveRequest())).Live);
        var limited = await Assert.ThrowsAsync<RpcException>(() => client.ServerLiveAsync(new ServerLiveRequest()).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, limited.StatusCode);
        Assert.NotNull(limited.Trailers.GetValue("retry-after"));
        Assert.NotNull(limited.Trailers.GetValue("grpc-retry-pushback-ms"));
    }

    /// <summary>A channel from <paramref name="source"/> whose calls send the cluster's key as a user would
    /// (metadata <c>authorization: Bearer</c>), or no key at all.</summary>
    private GrpcChannel Channel(IPAddress source, bool withKey = true)
    {
        var key = fixture.Cluster.ApiKey.Key;
        return GrpcChannel.ForAddress(GrpcGateway, new GrpcChannelOptions
        {
            HttpHandler = LoopbackClients.CreateHandler(source, maxConnections: 1),
            MaxReceiveMessageSize = 16 * 1024 * 1024,
            Credentials = withKey
                ? ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
                {
                    metadata.Add("authorization", "Bearer " + key);
                    return Task.CompletedTask;
                }))
                : ChannelCredentials.Insecure,
            UnsafeUseInsecureChannelCallCredentials = withKey,
        });
    }

    [Fact]
    public async Task NoKeyOrWrongKey_ModelInferUnauthenticated_ProbesStillOpen()
    {
        using var anonymous = Channel(IPAddress.Loopback, withKey: false);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(anonymous);
        Assert.True((await client.ServerLiveAsync(new ServerLiveRequest())).Live);

        var request = new ModelInferRequest { ModelName = Model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input_ecg_5000_std_continuous", Datatype = "FP32" };
        input.Shape.AddRange([1, 5000, 12]);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(new byte[5000 * 12 * 4]));
        var noKey = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, noKey.StatusCode);

        var wrong = new Metadata { { "authorization", "Bearer e2a_not-a-key-of-this-cluster" } };
        var wrongKey = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(request, wrong).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrongKey.StatusCode);
        Assert.DoesNotContain("not-a-key", wrongKey.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelInfer_AuditedLikeRestInfer_OneRecordPerCallWithKeyModelAndStatus()
    {
        using var channel = Channel(IPAddress.Loopback);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        using var served = client.ModelInferAsync(InferRequest("input_ecg_5000_std_continuous", [new float[60_000]]));
        var servedId = (await served.ResponseHeadersAsync).GetValue("x-ecg2af-audit-id");
        await served.ResponseAsync;

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            client.ModelInferAsync(InferRequest("input_ecg_5000_std_continuous", [new float[60_000]], model: "no-such-model")).ResponseAsync);
        var refusedId = refused.Trailers.GetValue("x-ecg2af-audit-id");

        var records = await ApiKeyTests.ReadAuditFileAsync(fixture.Cluster);
        var ok = Assert.Single(records, r => r.RequestId == servedId);
        Assert.Equal(("infer", 200, "ecg2af"), (ok.Operation, ok.StatusCode, ok.ModelName));
        Assert.Equal(fixture.Cluster.ApiKey.Id, ok.KeyId);
        Assert.Equal(IPAddress.Loopback.ToString(), ok.ClientIp);
        Assert.NotNull(ok.ModelSha256);

        var notFound = Assert.Single(records, r => r.RequestId == refusedId);
        Assert.Equal(("infer", 404), (notFound.Operation, notFound.StatusCode));
        Assert.Contains("no-such-model", notFound.Error, StringComparison.Ordinal);
        Assert.Equal(fixture.Cluster.ApiKey.Id, notFound.KeyId);
    }

    /// <summary>A cheap call that reaches a worker; the worker names itself in the response headers.</summary>
    private static async Task<string?> WorkerOfAsync(GRPCInferenceService.GRPCInferenceServiceClient client)
    {
        using var call = client.ModelMetadataAsync(new ModelMetadataRequest { Name = Model }, deadline: DateTime.UtcNow.AddSeconds(30));
        var headers = await call.ResponseHeadersAsync;
        await call.ResponseAsync;
        return headers.GetValue("x-ecg2af-worker");
    }

    private static ModelInferRequest InferRequest(string input, IReadOnlyList<float[]> items, string model = Model)
    {
        var request = new ModelInferRequest { ModelName = model, Id = "acceptance" };
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input, Datatype = "FP32" };
        tensor.Shape.AddRange([items.Count, 5000, 12]);
        request.Inputs.Add(tensor);
        var bytes = new byte[items.Sum(i => i.Length) * sizeof(float)];
        var offset = 0;
        foreach (var item in items)
        {
            // Little-endian on every host this test runs on (x86-64, arm64), as raw_input_contents requires.
            MemoryMarshal.AsBytes(item.AsSpan()).CopyTo(bytes.AsSpan(offset));
            offset += item.Length * sizeof(float);
        }

        request.RawInputContents.Add(ByteString.CopyFrom(bytes));
        return request;
    }

    private static Dictionary<string, float[]> Outputs(ModelInferResponse response)
    {
        Assert.Equal(response.Outputs.Count, response.RawOutputContents.Count);
        return response.Outputs.Select((o, i) => (o.Name, Values: MemoryMarshal.Cast<byte, float>(response.RawOutputContents[i].Span).ToArray()))
            .ToDictionary(o => o.Name, o => o.Values);
    }

    private static void AssertOutputsEqual(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, int row, int rows)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
        {
            var size = values.Length;
            var got = actual[name];
            Assert.Equal(size * rows, got.Length);
            for (var k = 0; k < size; k++)
            {
                Assert.True(Math.Abs(values[k] - got[(row * size) + k]) <= 1e-5, $"{name}[{row}, {k}]: REST {values[k]}, gRPC {got[(row * size) + k]}");
            }
        }
    }

    /// <summary>The model input for one real ECG, as <c>POST /api/v1/ecg:preprocess</c> (stage model) gives it: [5000][12].</summary>
    private async Task<float[]> PreprocessAsync(HttpClient http, string[] parts)
    {
        using var form = new MultipartFormDataContent();
        foreach (var part in parts)
        {
            var name = Path.GetFileName(part);
            form.Add(new ByteArrayContent(File.ReadAllBytes(RepositoryLayout.SharedFile(["ecg-samples", .. part.Split('/')]))), "ecg", name);
        }

        using var response = await http.PostAsync(new Uri(fixture.Gateway, "/api/v1/ecg:preprocess"), form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        var rows = json.RootElement.GetProperty("data");
        var values = new float[60_000];
        var n = 0;
        foreach (var sample in rows.EnumerateArray())
        {
            foreach (var lead in sample.EnumerateArray())
            {
                values[n++] = lead.GetSingle();
            }
        }

        Assert.Equal(60_000, n);
        return values;
    }

    /// <summary>The REST OIP answer (JSON tensors) for one tensor through the gateway.</summary>
    private async Task<Dictionary<string, float[]>> RestInferAsync(HttpClient http, float[] tensor, string input)
    {
        var body = new { inputs = new[] { new { name = input, shape = new[] { 1, 5000, 12 }, datatype = "FP32", data = tensor } } };
        using var response = await http.PostAsJsonAsync(new Uri(fixture.Gateway, $"/v2/models/{Model}/infer"), body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        return json.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(
            o => o.GetProperty("name").GetString()!,
            o => o.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }
}
