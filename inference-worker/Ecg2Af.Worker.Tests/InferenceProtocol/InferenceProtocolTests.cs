using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Keras;
using Ecg2Af.Inference.Onnx;
using Ecg2Af.LocalCluster;
using Ecg2Af.Worker.Tests.Serving;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.InferenceProtocol;

/// <summary>
/// One worker serving the stand-in ECG2AF (<c>ecg2af/1</c>) and the imported PhysioNet/CinC 2020 model
/// (<c>ecgcnnx/1</c>, from shared/keras-fixtures) side by side.
/// </summary>
public sealed class TwoModelWorkerFixture(StandInRepository repository) : IAsyncLifetime
{
    /// <summary>The CinC 2020 model's signature, as documented for <c>ecg2af import</c>.</summary>
    internal static KerasImportOptions EcgCnnx { get; } = new()
    {
        Name = "ecgcnnx",
        Version = "1",
        Decoder = KnownDecoders.Multilabel,
        Labels = ["AF", "I-AVB", "LBBB", "Normal", "PAC", "PVC", "RBBB", "STD", "STE"],
        SampleRateHz = 500,
        Samples = 30000,
        LengthPolicy = LengthPolicy.Pad,
        Normalization = NormalizationKind.None,
        Units = "mV",
    };

    internal WorkerProcess Worker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var root = repository.Copy();
        KerasImporter.ImportTo(RepositoryLayout.SharedFile("keras-fixtures", "ECGCNNX_V4.h5"), root, EcgCnnx);
        Worker = await WorkerProcess.StartAsync(root);
    }

    public async Task DisposeAsync() => await Worker.DisposeAsync();
}

[Collection(WorkerProcessCollection.Name)]
public sealed class InferenceProtocolTests(TwoModelWorkerFixture fixture) : IClassFixture<TwoModelWorkerFixture>
{
    private HttpClient Client => fixture.Worker.Client;

    [Fact]
    public async Task ServerMetadata_Get_NameVersionAndExtensions()
    {
        var (status, json) = await GetAsync(Client, "/v2");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["extensions", "name", "version"], Keys(json));
        Assert.Equal(JsonValueKind.String, Kind(json["name"]));
        Assert.Equal(JsonValueKind.String, Kind(json["version"]));
        Assert.Contains("binary_tensor_data", json["extensions"]!.AsArray().Select(e => (string)e!));
    }

    [Fact]
    public async Task Health_LiveAndReady_StatusCodeCarriesTheAnswer()
    {
        var (liveStatus, live) = await GetAsync(Client, "/v2/health/live");
        var (readyStatus, ready) = await GetAsync(Client, "/v2/health/ready");

        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.True((bool)live["live"]!);
        Assert.Equal(HttpStatusCode.OK, readyStatus);
        Assert.True((bool)ready["ready"]!);
    }

    [Theory]
    [InlineData("/v2/models/ecg2af")]
    [InlineData("/v2/models/ecg2af/versions/1")]
    public async Task ModelMetadata_Ecg2Af_MatchesTheOipShape(string path)
    {
        var (status, json) = await GetAsync(Client, path);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["inputs", "name", "outputs", "parameters", "platform", "versions"], Keys(json));
        Assert.Equal("ecg2af", (string)json["name"]!);
        Assert.Equal(["1"], json["versions"]!.AsArray().Select(v => (string)v!));
        Assert.Equal("onnx_onnxv1", (string)json["platform"]!);
        var input = Assert.Single(json["inputs"]!.AsArray())!;
        Assert.Equal(["datatype", "name", "shape"], Keys(input));
        Assert.Equal((InputName, "FP32"), ((string)input["name"]!, (string)input["datatype"]!));
        Assert.Equal([-1, 5000, 12], input["shape"]!.AsArray().Select(d => (int)d!));
        var outputs = json["outputs"]!.AsArray();
        Assert.Equal(
            ["output_survival_curve_af_survival_curve", "output_sex_from_wide_categorical", "output_age_from_wide_csv_continuous", "output_af_in_read_categorical"],
            outputs.Select(o => (string)o!["name"]!));
        Assert.All(outputs, o => Assert.Equal(["datatype", "name", "shape"], Keys(o)));
        Assert.Equal([-1, 50], outputs[0]!["shape"]!.AsArray().Select(d => (int)d!));
        // The provider the host can run (found independently of the worker), every session on it, and on a CPU host
        // the reason CUDA was not used.
        var parameters = json["parameters"]!;
        Assert.Equal(HostCapability.ExpectedProvider, (string)parameters["execution_provider"]!);
        var sessions = (int)await fixture.Worker.MetricAsync("ecg2af_inference_loops");
        Assert.Equal(string.Join(",", Enumerable.Repeat(HostCapability.ExpectedProvider, sessions)), (string)parameters["execution_provider_sessions"]!);
        Assert.Equal(HostCapability.ExpectedFallback, (string?)parameters["execution_provider_fallback"]);
        Assert.Equal("stand-in", (string)parameters["weights"]!);
    }

    [Fact]
    public async Task ModelMetadata_ImportedModel_HasItsOwnSignature()
    {
        var (status, json) = await GetAsync(Client, "/v2/models/ecgcnnx");

        Assert.Equal(HttpStatusCode.OK, status);
        var input = Assert.Single(json["inputs"]!.AsArray())!;
        Assert.Equal("conv1d_input", (string)input["name"]!);
        Assert.Equal([-1, 30000, 12], input["shape"]!.AsArray().Select(d => (int)d!));
        var output = Assert.Single(json["outputs"]!.AsArray())!;
        Assert.Equal([-1, 9], output["shape"]!.AsArray().Select(d => (int)d!));
        Assert.Equal("imported", (string)json["parameters"]!["weights"]!);
    }

    [Theory]
    [InlineData("/v2/models/ecg2af/ready", HttpStatusCode.OK, true)]
    [InlineData("/v2/models/ecg2af/versions/1/ready", HttpStatusCode.OK, true)]
    [InlineData("/v2/models/ecgcnnx/ready", HttpStatusCode.OK, true)]
    [InlineData("/v2/models/ecg2af/versions/9/ready", HttpStatusCode.NotFound, null)]
    [InlineData("/v2/models/nope/ready", HttpStatusCode.NotFound, null)]
    [InlineData("/v2/models/nope", HttpStatusCode.NotFound, null)]
    public async Task ModelReady_KnownAndUnknown_NameReadyOrError(string path, HttpStatusCode expected, bool? ready)
    {
        var (status, json) = await GetAsync(Client, path);

        Assert.Equal(expected, status);
        if (ready is { } value)
        {
            Assert.Equal(["name", "ready"], Keys(json));
            Assert.Equal(value, (bool)json["ready"]!);
        }
        else
        {
            Assert.Equal(["error"], Keys(json));
        }
    }

    [Fact]
    public async Task Infer_JsonTensors_EveryHeadWithShapeDatatypeDataAndTheEchoedId()
    {
        var response = await InferAsync(Client, "/v2/models/ecg2af/infer", Json(RandomEcg(1), id: "req-42"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal(["id", "model_name", "model_version", "outputs", "parameters"], Keys(response.Json));
        Assert.Equal(("ecg2af", "1", "req-42"), ((string)response.Json["model_name"]!, response.ModelVersion, (string)response.Json["id"]!));
        var outputs = response.Json["outputs"]!.AsArray();
        Assert.Equal(4, outputs.Count);
        foreach (var (output, size) in outputs.Zip(new[] { 50, 2, 1, 2 }))
        {
            Assert.Equal(["data", "datatype", "name", "shape"], Keys(output));
            Assert.Equal("FP32", (string)output!["datatype"]!);
            Assert.Equal([1, size], output["shape"]!.AsArray().Select(d => (int)d!));
            Assert.Equal(size, output["data"]!.AsArray().Count);
        }

        var sex = response.Output("output_sex_from_wide_categorical");
        Assert.Equal(1.0, sex[0] + sex[1], 5);
        Assert.Equal("stand-in", (string)response.Json["parameters"]!["weights"]!);
        var (_, metadata) = await GetAsync(Client, "/v2/models/ecg2af");
        Assert.Equal((string)metadata["parameters"]!["execution_provider"]!, (string)response.Json["parameters"]!["execution_provider"]!);
        Assert.Equal(HostCapability.ExpectedProvider, (string)response.Json["parameters"]!["execution_provider"]!);
    }

    [Fact]
    public async Task Infer_BinaryExtension_RoundTripsTheSameValuesAsJson()
    {
        var data = RandomEcg(2, items: 2);
        var json = await InferAsync(Client, "/v2/models/ecg2af/versions/1/infer", Json(data, items: 2));
        var binary = await InferAsync(Client, "/v2/models/ecg2af/versions/1/infer", Binary(data, items: 2));
        var mixed = await InferAsync(Client, "/v2/models/ecg2af/infer", Binary(data, items: 2, binaryOutputs: false, outputs:
        [
            new JsonObject { ["name"] = "output_age_from_wide_csv_continuous", ["parameters"] = new JsonObject { ["binary_data"] = true } },
            new JsonObject { ["name"] = "output_af_in_read_categorical" },
        ]));

        Assert.Equal(HttpStatusCode.OK, binary.Status);
        Assert.Equal("application/octet-stream", binary.ContentType);
        Assert.True(binary.Headers.Contains(HeaderLength));
        foreach (var output in binary.Json["outputs"]!.AsArray())
        {
            Assert.Equal(["datatype", "name", "parameters", "shape"], Keys(output));
            var name = (string)output!["name"]!;
            Assert.Equal(json.Output(name), binary.Output(name));
            Assert.Equal((int)output["shape"]![0]! * (int)output["shape"]![1]! * sizeof(float), (int)output["parameters"]!["binary_data_size"]!);
        }

        Assert.Equal(["output_age_from_wide_csv_continuous", "output_af_in_read_categorical"],
            mixed.Json["outputs"]!.AsArray().Select(o => (string)o!["name"]!));
        Assert.Equal(["output_age_from_wide_csv_continuous"], mixed.Binary.Keys);
        Assert.Equal(json.Output("output_age_from_wide_csv_continuous"), mixed.Output("output_age_from_wide_csv_continuous"));
        Assert.Equal(json.Output("output_af_in_read_categorical"), mixed.Output("output_af_in_read_categorical"));
        Assert.Equal(4, json.Output("output_af_in_read_categorical").Length);
    }

    [Fact]
    public async Task Infer_RawBinaryBody_OneItemWithEveryOutputBinary()
    {
        var data = RandomEcg(3);
        var raw = await InferAsync(Client, "/v2/models/ecg2af/infer", Raw(data));
        var json = await InferAsync(Client, "/v2/models/ecg2af/infer", Json(data));

        Assert.Equal(HttpStatusCode.OK, raw.Status);
        Assert.Equal(4, raw.Binary.Count);
        Assert.Equal(json.Output("output_survival_curve_af_survival_curve"), raw.Output("output_survival_curve_af_survival_curve"));
    }

    [Theory]
    [InlineData("/v2/models/nope/infer", "json", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/ecg2af/versions/7/infer", "json", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/ecg2af/infer", "wrong-name", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "wrong-shape", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "wrong-datatype", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "short-data", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "not-json", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "binary-size", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "raw-size", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "unknown-output", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "bad-priority", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/ecg2af/infer", "too-many-items", HttpStatusCode.BadRequest)]
    public async Task Infer_UnusableRequest_ErrorObjectAndStatus(string path, string problem, HttpStatusCode expected)
    {
        var content = problem switch
        {
            "wrong-name" => Json(RandomEcg(4), inputName: "ecg"),
            "wrong-shape" => Json(RandomEcg(4), samples: 2500, leads: 24),
            "wrong-datatype" => new StringContent((await Json(RandomEcg(4)).ReadAsStringAsync()).Replace("\"FP32\"", "\"FP64\"", StringComparison.Ordinal),
                Encoding.UTF8, "application/json"),
            "short-data" => Json(RandomEcg(4)[..59_999]),
            "not-json" => new StringContent("{\"inputs\": [", Encoding.UTF8, "application/json"),
            "binary-size" => await TrimmedAsync(Binary(RandomEcg(4)), trim: 4),
            "raw-size" => Raw(RandomEcg(4)[..1000]),
            "unknown-output" => Json(RandomEcg(4), outputs: [new JsonObject { ["name"] = "risk" }]),
            "bad-priority" => Json(RandomEcg(4), parameters: new JsonObject { ["priority"] = "urgent" }),
            "too-many-items" => Json(RandomEcg(4, items: 17), items: 17),
            _ => Json(RandomEcg(4)),
        };

        var response = await InferAsync(Client, path, content);

        Assert.Equal(expected, response.Status);
        Assert.Equal(["error"], Keys(response.Json));
        Assert.False(string.IsNullOrWhiteSpace((string)response.Json["error"]!));
    }

    [Fact]
    public async Task Predict_EcgCnnxOnChallengeRecord_AfAndRbbbAreTheTwoHighestLabels()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("Test User"), "name" },
            { new StringContent("test@example.org"), "email" },
            { new StringContent("ecgcnnx"), "model" },
        };
        foreach (var file in new[] { "JS00001.hea", "JS00001.mat" })
        {
            var part = new ByteArrayContent(await File.ReadAllBytesAsync(RepositoryLayout.SharedFile("ecg-samples", "wfdb-challenge-mat", file)));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "ecg", file);
        }

        using var response = await Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);

        var json = JsonNode.Parse(body)!;
        Assert.Equal(("ecgcnnx", "1", "imported"), ((string)json["model"]!["name"]!, (string)json["model"]!["version"]!, (string)json["model"]!["weights"]!));
        var labels = json["result"]!["labels"]!.AsObject().OrderByDescending(l => (double)l.Value!).Select(l => l.Key).ToList();
        Assert.Equal(9, labels.Count);
        Assert.Equal(["AF", "RBBB"], labels.Take(2).Order(StringComparer.Ordinal));
        Assert.True((bool)json["input"]!["padded"]!);
    }

    [Fact]
    public async Task Metrics_AfterInference_ModelInfoAndRequestCountersExported()
    {
        var before = await fixture.Worker.MetricAsync("ecg2af_inference_requests_total", "model=\"ecg2af\"", "outcome=\"success\"");
        var response = await InferAsync(Client, "/v2/models/ecg2af/infer", Binary(RandomEcg(5)), ("X-Ecg2Af-Priority", "stat"));
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("stat", (string)response.Json["parameters"]!["priority"]!);

        Assert.Equal(before + 1, await fixture.Worker.MetricAsync("ecg2af_inference_requests_total", "model=\"ecg2af\"", "outcome=\"success\""));
        Assert.Equal(1, await fixture.Worker.MetricAsync("ecg2af_model_info", "model=\"ecg2af\"", "version=\"1\"", $"execution_provider=\"{HostCapability.ExpectedProvider}\""));
        Assert.Equal(1, await fixture.Worker.MetricAsync("ecg2af_model_info", "model=\"ecgcnnx\"", "weights=\"imported\""));
        // One session per inference loop, all on the host's provider.
        Assert.Equal(await fixture.Worker.MetricAsync("ecg2af_inference_loops"),
            await fixture.Worker.MetricAsync("ecg2af_model_sessions", "model=\"ecg2af\"", $"execution_provider=\"{HostCapability.ExpectedProvider}\""));
        // The fallback counter, by reason: 1 for this host's reason (none on a CUDA host), 0 for every other reason.
        Assert.Equal(HostCapability.ExpectedFallback is null ? 0 : 1, await fixture.Worker.MetricAsync("ecg2af_execution_provider_fallbacks_total", "model=\"ecg2af\""));
        if (HostCapability.ExpectedFallback is { } reason)
        {
            Assert.Equal(1, await fixture.Worker.MetricAsync("ecg2af_execution_provider_fallbacks_total", "model=\"ecg2af\"", $"reason=\"{reason}\""));
            Assert.Contains($"runs on the CPU although CUDA was allowed ({reason})", fixture.Worker.Process.Output, StringComparison.Ordinal);
        }
        Assert.True(await fixture.Worker.MetricAsync("ecg2af_inference_queue_duration_seconds_count", "priority=\"stat\"") >= 1);
        Assert.True(await fixture.Worker.MetricAsync("ecg2af_inference_batch_size_count", "model=\"ecg2af\"") >= 1);
        Assert.True(await fixture.Worker.MetricAsync("ecg2af_inference_request_duration_seconds_count", "endpoint=\"v2_infer\"") >= 1);
    }

    private static async Task<HttpContent> TrimmedAsync(HttpContent content, int trim)
    {
        var bytes = await content.ReadAsByteArrayAsync();
        var trimmed = new ByteArrayContent(bytes[..^trim]);
        trimmed.Headers.ContentType = content.Headers.ContentType;
        trimmed.Headers.Add(HeaderLength, content.Headers.GetValues(HeaderLength));
        return trimmed;
    }
}
