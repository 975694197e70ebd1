using Ecg2Af.Client.Rest;
using Grpc.Core;

namespace Ecg2Af.Client.Tests;

/// <summary>
/// <see cref="Ecg2AfGrpcClient"/> against the real gateway's gRPC listener and a real worker: the same answers as the
/// client's REST binary OIP for the same real-ECG tensor, and refusals a user can act on.
/// </summary>
[Collection(ClientClusterCollection.Name)]
public class GrpcClientTests(ClientClusterFixture fixture)
{
    private const float Tolerance = 1e-5f;

    [Fact]
    public async Task LiveReadyMetadata_DescribeTheServedModel()
    {
        using var grpc = fixture.Grpc();

        Assert.True(await grpc.IsLiveAsync());
        Assert.True(await grpc.IsReadyAsync());
        Assert.True(await grpc.IsModelReadyAsync(fixture.Model));
        var metadata = await grpc.GetModelMetadataAsync(fixture.Model);
        Assert.Equal(fixture.Model, metadata.Name);
        var input = Assert.Single(metadata.Inputs);
        Assert.Equal(fixture.InputName, input.Name);
        Assert.Equal("FP32", input.Datatype);
        Assert.Equal([-1L, 5000, 12], input.Shape);
        Assert.NotEmpty(metadata.Outputs);
        Assert.NotEmpty(metadata.Versions);
    }

    [Fact]
    public async Task InferBatch1AndBatch4_EqualRestBinaryOipWithin1e5()
    {
        using var rest = fixture.Rest();
        using var grpc = fixture.Grpc();
        var tensors = fixture.Tensors;
        var expected = new List<InferResult>();
        foreach (var tensor in tensors)
        {
            var restResult = await rest.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], tensor, binary: true);
            expected.Add(restResult);
            var grpcResult = await grpc.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], tensor);
            Assert.Equal(fixture.Model, grpcResult.ModelName);
            Assert.Equal(restResult.ModelVersion, grpcResult.ModelVersion);
            AssertRowEqual(restResult, grpcResult, row: 0);
            // The header is the answer without its raw bytes, in proto field names: the stand-in notice is there.
            Assert.Equal(fixture.Model, grpcResult.Header.GetProperty("model_name").GetString());
            Assert.Equal("stand-in", grpcResult.Header.GetProperty("parameters").GetProperty("weights").GetProperty("string_param").GetString());
        }

        int[] picks = [0, 1, 1, 0];
        var batch = new float[picks.Length * 5000 * 12];
        for (var row = 0; row < picks.Length; row++)
        {
            tensors[picks[row]].CopyTo(batch, row * 5000 * 12);
        }

        var four = await grpc.InferAsync(fixture.Model, fixture.InputName, [4, 5000, 12], batch, parameters: new Dictionary<string, string> { ["priority"] = "routine" });
        Assert.All(four.Outputs, o => Assert.Equal(4, o.Shape[0]));
        for (var row = 0; row < picks.Length; row++)
        {
            AssertRowEqual(expected[picks[row]], four, row);
        }
    }

    [Fact]
    public async Task ManyConcurrentCalls_OnOneClient_AllSucceed()
    {
        using var grpc = fixture.Grpc();
        var tensor = fixture.Tensors[0];
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => grpc.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], tensor)));
        Assert.All(results, r => AssertRowEqual(results[0], r, row: 0));
    }

    [Fact]
    public async Task NoKey_OrWrongKey_UnauthenticatedWithAClearMessage()
    {
        using var anonymous = fixture.Grpc(apiKey: null);
        var none = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => anonymous.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], fixture.Tensors[0]));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Contains("API key", none.Message, StringComparison.Ordinal);
        Assert.Equal("ModelInfer", none.Method);

        const string wrongKey = "e2a_not-a-key-the-service-knows";
        using var wrong = fixture.Grpc(apiKey: wrongKey);
        var refused = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => wrong.GetModelMetadataAsync(fixture.Model));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.DoesNotContain(wrongKey, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownModel_NotFound()
    {
        using var grpc = fixture.Grpc();
        var infer = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => grpc.InferAsync("no-such-model", fixture.InputName, [1, 5000, 12], fixture.Tensors[0]));
        Assert.Equal(StatusCode.NotFound, infer.StatusCode);
        Assert.Contains("no-such-model", infer.Message, StringComparison.Ordinal);
        var metadata = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => grpc.GetModelMetadataAsync("no-such-model"));
        Assert.Equal(StatusCode.NotFound, metadata.StatusCode);
    }

    [Fact]
    public async Task BadShape_InvalidArgument_NotRetried()
    {
        using var grpc = fixture.Grpc();
        var bad = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => grpc.InferAsync(fixture.Model, fixture.InputName, [1, 2500, 12], new float[2500 * 12]));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("5000", bad.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadlineTooShortForInference_DeadlineExceeded()
    {
        using var grpc = fixture.Grpc(deadline: TimeSpan.FromMilliseconds(1));
        var late = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => grpc.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], fixture.Tensors[0]));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
    }

    [Fact]
    public async Task WorkerDown_Unavailable_ThenRetriedUntilTheRestartedWorkerAnswers()
    {
        var tensor = fixture.Tensors[0];
        using var rest = fixture.Rest();
        var expected = await rest.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], tensor);
        using var once = new Ecg2AfGrpcClient(new Ecg2AfClientOptions { BaseAddress = fixture.Cluster.GatewayGrpcUrl, ApiKey = fixture.Cluster.ApiKey.Key, MaxRetries = 0 });
        using var patient = new Ecg2AfGrpcClient(new Ecg2AfClientOptions
        {
            BaseAddress = fixture.Cluster.GatewayGrpcUrl,
            ApiKey = fixture.Cluster.ApiKey.Key,
            Deadline = TimeSpan.FromMinutes(3),
            MaxRetries = 200,
            RetryDelay = TimeSpan.FromMilliseconds(250),
            MaxRetryDelay = TimeSpan.FromSeconds(1),
        });

        await fixture.Cluster.KillWorkerAsync(0);
        var restarted = false;
        try
        {
            // The gateway has no worker to give the call to: without retries the refusal reaches the caller.
            var refused = await Assert.ThrowsAsync<Ecg2AfGrpcException>(() => once.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], tensor));
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);

            // With retries the same call keeps coming back (the real gateway and, once it listens, the loading
            // worker answer UNAVAILABLE) until the restarted worker serves it.
            var call = patient.InferAsync(fixture.Model, fixture.InputName, [1, 5000, 12], tensor);
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(call.IsCompleted, "the call should still be retrying while no worker runs");
            await fixture.Cluster.RestartWorkerAsync(0);
            restarted = true;
            AssertRowEqual(expected, await call, row: 0);
        }
        finally
        {
            if (!restarted)
            {
                await fixture.Cluster.RestartWorkerAsync(0);
            }
        }
    }

    private static void AssertRowEqual(InferResult expected, InferResult actual, int row)
    {
        Assert.Equal(expected.Outputs.Select(o => o.Name).Order(), actual.Outputs.Select(o => o.Name).Order());
        foreach (var want in expected.Outputs)
        {
            var got = actual.Output(want.Name);
            var width = want.Data.Length / (int)want.Shape[0];
            Assert.Equal(want.Shape.Skip(1), got.Shape.Skip(1));
            for (var i = 0; i < width; i++)
            {
                var a = want.Data[i];
                var b = got.Data[(row * width) + i];
                Assert.True(Math.Abs(a - b) <= Tolerance, $"{want.Name}[{row}, {i}]: REST {a}, gRPC {b}");
            }
        }
    }
}
