using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ecg2Af.Gateway.Tests.Contract;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>
/// Real answers of every REST route through the real gateway, success and each main refusal, checked against the
/// OpenAPI document the gateway serves (<see cref="ApiContract"/>): the status and content type must be declared for
/// the operation, and the body must fit the declared schema. The document cannot drift from what the routes answer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ApiContractTests(ClusterFixture fixture)
{
    private const string Predictions = "/api/v1/predictions";
    private const string Batch = "/api/v1/predictions:batch";
    private const string Preprocess = "/api/v1/ecg:preprocess";

    /// <summary>
    /// A client without a key, from client address <paramref name="n"/> (public routes are limited per address; the
    /// fixture's clients use 0–199).
    /// </summary>
    private static HttpClient Anonymous(int n) => LoopbackClients.Create(LoopbackClients.Address(n), TimeSpan.FromSeconds(60));

    /// <summary>Sends the cluster's key (scopes predict and admin), which has a bucket of its own at the gateway.</summary>
    private HttpClient Keyed => fixture.Clients[7];

    private Uri Url(string path) => new(fixture.Gateway, path);

    private Task<ApiContract> Contract => ApiContract.FetchAsync(fixture.Gateway);

    [Fact]
    public async Task Predict_Success_AndEachRefusal_FitTheDocument()
    {
        var contract = await Contract;
        using var anonymous = Anonymous(231);
        var muse = File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml"));

        using var ok = await Keyed.PostAsync(Url(Predictions + "?include=leads_mv"), Form(("muse-sinus.xml", muse)));
        var prediction = await Expect(contract, ok, HttpStatusCode.OK, Predictions, "post");
        Assert.True(prediction.GetProperty("leads_mv").GetProperty("leads").EnumerateObject().Any());

        using var noFile = await Keyed.PostAsync(Url(Predictions), Form());
        var invalid = await Expect(contract, noFile, HttpStatusCode.BadRequest, Predictions, "post");
        Assert.True(invalid.GetProperty("errors").TryGetProperty("ecg", out _));

        using var notAForm = await Keyed.PostAsync(Url(Predictions), new StringContent("{}", Encoding.UTF8, "application/json"));
        await Expect(contract, notAForm, HttpStatusCode.BadRequest, Predictions, "post");

        using var notAnEcg = await Keyed.PostAsync(Url(Predictions), Load.NotAnEcgPrediction());
        await Expect(contract, notAnEcg, HttpStatusCode.UnsupportedMediaType, Predictions, "post");

        // Contec EDF with flat chest leads: refused, naming them.
        var edf = File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "edf", "0000050.ECG.edf"));
        using var unusable = await Keyed.PostAsync(Url(Predictions), Form(("contec.edf", edf)));
        await Expect(contract, unusable, HttpStatusCode.UnprocessableEntity, Predictions, "post");

        using var unknownModel = await Keyed.PostAsync(Url(Predictions + "?model=no-such-model"), Form(("muse-sinus.xml", muse)));
        await Expect(contract, unknownModel, HttpStatusCode.NotFound, Predictions, "post");

        using var badKey = new HttpRequestMessage(HttpMethod.Post, Url(Predictions)) { Content = Form(("muse-sinus.xml", muse)) };
        badKey.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key-of-this-cluster");
        using var unauthorized = await anonymous.SendAsync(badKey);
        await Expect(contract, unauthorized, HttpStatusCode.Unauthorized, Predictions, "post");
    }

    [Fact]
    public async Task Batch_EachNdjsonLine_TheJsonArray_AndRefusals_FitTheDocument()
    {
        var contract = await Contract;
        using var anonymous = Anonymous(232);
        (string, byte[])[] files =
        [
            ("rec/00001_lr.hea", File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb", "00001_lr.hea"))),
            ("rec/00001_lr.dat", File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb", "00001_lr.dat"))),
            ("rec/notes.txt", "Shopping list: milk, eggs, bread.\n"u8.ToArray()),
        ];

        using var ndjsonRequest = new HttpRequestMessage(HttpMethod.Post, Url(Batch)) { Content = Form(files) };
        ndjsonRequest.Headers.Accept.ParseAdd("application/x-ndjson");
        using var ndjson = await Keyed.SendAsync(ndjsonRequest);
        var lines = await Expect(contract, ndjson, HttpStatusCode.OK, Batch, "post");
        Assert.Equal([200, 415], lines.EnumerateArray().Select(l => l.GetProperty("status").GetInt32()));

        using var array = await Keyed.PostAsync(Url(Batch + "?format=json"), Form(files));
        var items = await Expect(contract, array, HttpStatusCode.OK, Batch, "post");
        Assert.Equal(2, items.GetArrayLength());

        using var csv = await Keyed.PostAsync(Url(Batch + "?format=csv"), Form(files));
        await Expect(contract, csv, HttpStatusCode.OK, Batch, "post");

        using var noName = await Keyed.PostAsync(Url(Batch), Form(files, submitter: false));
        await Expect(contract, noName, HttpStatusCode.BadRequest, Batch, "post");

        using var noKey = await anonymous.PostAsync(Url(Batch), Form(files));
        await Expect(contract, noKey, HttpStatusCode.Unauthorized, Batch, "post");
    }

    [Fact]
    public async Task Preprocess_BothStages_AndRefusals_FitTheDocument()
    {
        var contract = await Contract;
        using var anonymous = Anonymous(233);

        using var model = await Keyed.PostAsync(Url(Preprocess), Load.Prediction());
        var input = await Expect(contract, model, HttpStatusCode.OK, Preprocess, "post");
        Assert.Equal(5000, input.GetProperty("samples").GetInt32());

        using var mv = await Keyed.PostAsync(Url(Preprocess), Load.PreprocessMv());
        var leads = await Expect(contract, mv, HttpStatusCode.OK, Preprocess, "post");
        Assert.Equal("mV", leads.GetProperty("units").GetString());

        using var badStage = await Keyed.PostAsync(Url(Preprocess + "?stage=raw"), Load.Prediction());
        await Expect(contract, badStage, HttpStatusCode.BadRequest, Preprocess, "post");

        using var notAnEcg = await Keyed.PostAsync(Url(Preprocess), Load.NotAnEcgPrediction());
        await Expect(contract, notAnEcg, HttpStatusCode.UnsupportedMediaType, Preprocess, "post");

        using var unknownModel = await Keyed.PostAsync(Url(Preprocess + "?model=no-such-model"), Load.Prediction());
        await Expect(contract, unknownModel, HttpStatusCode.NotFound, Preprocess, "post");

        using var noKey = await anonymous.PostAsync(Url(Preprocess), Load.PreprocessMv());
        await Expect(contract, noKey, HttpStatusCode.Unauthorized, Preprocess, "post");
    }

    [Fact]
    public async Task InferenceProtocol_EveryRoute_JsonAndBinary_AndRefusals_FitTheDocument()
    {
        var contract = await Contract;
        using var anonymous = Anonymous(234);

        await Expect(contract, await anonymous.GetAsync(Url("/v2")), HttpStatusCode.OK, "/v2", "get");
        await Expect(contract, await anonymous.GetAsync(Url("/v2/health/live")), HttpStatusCode.OK, "/v2/health/live", "get");
        await Expect(contract, await anonymous.GetAsync(Url("/v2/health/ready")), HttpStatusCode.OK, "/v2/health/ready", "get");

        var metadata = await Expect(contract, await Keyed.GetAsync(Url("/v2/models/ecg2af")), HttpStatusCode.OK, "/v2/models/{model}", "get");
        var version = metadata.GetProperty("versions")[0].GetString()!;
        await Expect(contract, await Keyed.GetAsync(Url($"/v2/models/ecg2af/versions/{version}")), HttpStatusCode.OK,
            "/v2/models/{model}/versions/{version}", "get");
        await Expect(contract, await Keyed.GetAsync(Url("/v2/models/no-such-model")), HttpStatusCode.NotFound, "/v2/models/{model}", "get");
        await Expect(contract, await Keyed.GetAsync(Url("/v2/models/ecg2af/ready")), HttpStatusCode.OK, "/v2/models/{model}/ready", "get");
        await Expect(contract, await Keyed.GetAsync(Url($"/v2/models/ecg2af/versions/{version}/ready")), HttpStatusCode.OK,
            "/v2/models/{model}/versions/{version}/ready", "get");
        await Expect(contract, await Keyed.PostAsync(Url("/v2/repository/index"), null), HttpStatusCode.OK, "/v2/repository/index", "post");
        await Expect(contract, await anonymous.GetAsync(Url("/v2/models/ecg2af")), HttpStatusCode.Unauthorized, "/v2/models/{model}", "get");

        // A real ECG's model input, as the preprocess route returns it.
        using var prepared = await Keyed.PostAsync(Url(Preprocess), Load.Prediction());
        using var view = JsonDocument.Parse(await prepared.Content.ReadAsStringAsync());
        var name = view.RootElement.GetProperty("input_name").GetString()!;
        var rows = view.RootElement.GetProperty("data").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        var flat = rows.SelectMany(r => r).ToArray();
        long[] shape = [1, rows.Length, rows[0].Length];

        var json = new JsonObject
        {
            ["id"] = "contract-1",
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = name,
                ["datatype"] = "FP32",
                ["shape"] = new JsonArray([.. shape.Select(s => (JsonNode)s)]),
                ["data"] = new JsonArray([.. flat.Select(v => (JsonNode)v)]),
            }),
        };
        using var inferJson = await Keyed.PostAsync(Url("/v2/models/ecg2af/infer"), new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json"));
        var answer = await Expect(contract, inferJson, HttpStatusCode.OK, "/v2/models/{model}/infer", "post");
        Assert.Equal("contract-1", answer.GetProperty("id").GetString());

        // The binary tensor extension both ways: JSON header, then the tensor's little-endian bytes.
        var header = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["parameters"] = new JsonObject { ["binary_data_output"] = true },
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = name,
                ["datatype"] = "FP32",
                ["shape"] = new JsonArray([.. shape.Select(s => (JsonNode)s)]),
                ["parameters"] = new JsonObject { ["binary_data_size"] = flat.Length * sizeof(float) },
            }),
        }.ToJsonString());
        var body = new byte[header.Length + (flat.Length * sizeof(float))];
        header.CopyTo(body, 0);
        for (var i = 0; i < flat.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(header.Length + (i * sizeof(float))), flat[i]);
        }

        var binaryContent = new ByteArrayContent(body);
        binaryContent.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        binaryContent.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var inferVersionBinary = await Keyed.PostAsync(Url($"/v2/models/ecg2af/versions/{version}/infer"), binaryContent);
        var binaryAnswer = await Expect(contract, inferVersionBinary, HttpStatusCode.OK, "/v2/models/{model}/versions/{version}/infer", "post");
        Assert.All(binaryAnswer.GetProperty("outputs").EnumerateArray(), o => Assert.True(o.GetProperty("parameters").GetProperty("binary_data_size").GetInt64() > 0));

        var badShape = json.DeepClone();
        badShape["inputs"]![0]!["shape"] = new JsonArray(1, 12, 5000);
        using var refused = await Keyed.PostAsync(Url("/v2/models/ecg2af/infer"), new StringContent(badShape.ToJsonString(), Encoding.UTF8, "application/json"));
        await Expect(contract, refused, HttpStatusCode.BadRequest, "/v2/models/{model}/infer", "post");

        using var unknown = await Keyed.PostAsync(Url("/v2/models/no-such-model/infer"), new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json"));
        await Expect(contract, unknown, HttpStatusCode.NotFound, "/v2/models/{model}/infer", "post");

        using var noKey = await anonymous.PostAsync(Url("/v2/models/ecg2af/infer"), new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json"));
        await Expect(contract, noKey, HttpStatusCode.Unauthorized, "/v2/models/{model}/infer", "post");
    }

    [Fact]
    public async Task Audit_QueryAndErasure_AndRefusals_FitTheDocument()
    {
        var contract = await Contract;
        using var anonymous = Anonymous(235);

        var page = await Expect(contract, await Keyed.GetAsync(Url("/api/v1/audit?limit=3")), HttpStatusCode.OK, "/api/v1/audit", "get");
        Assert.InRange(page.GetProperty("count").GetInt32(), 0, 3);
        await Expect(contract, await Keyed.GetAsync(Url("/api/v1/audit?format=csv&limit=3")), HttpStatusCode.OK, "/api/v1/audit", "get");
        await Expect(contract, await Keyed.GetAsync(Url("/api/v1/audit?limit=zero")), HttpStatusCode.BadRequest, "/api/v1/audit", "get");
        await Expect(contract, await anonymous.GetAsync(Url("/api/v1/audit")), HttpStatusCode.Unauthorized, "/api/v1/audit", "get");

        using var erase = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/audit/erasures"));
        erase.Headers.Add("X-Audit-Email", "nobody.contract@example.org");
        var erased = await Expect(contract, await Keyed.SendAsync(erase), HttpStatusCode.OK, "/api/v1/audit/erasures", "post");
        Assert.Equal(0, erased.GetProperty("erased").GetInt32());
        await Expect(contract, await Keyed.PostAsync(Url("/api/v1/audit/erasures"), new StringContent("{}", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "/api/v1/audit/erasures", "post");

        // A key without the admin scope is refused by the gateway itself.
        var predictOnly = TestApiKey.Create("contract-predict-only");
        await using var gateway = await fixture.Cluster.StartGatewayAsync(predictOnly.Settings(1));
        using var client = predictOnly.Authorize(LoopbackClients.Create(LoopbackClients.Address(238)));
        await Expect(contract, await client.GetAsync(new Uri(gateway.Url, "/api/v1/audit?limit=1")), HttpStatusCode.Forbidden, "/api/v1/audit", "get");
    }

    [Fact]
    public async Task HealthProbes_AndTheGatewaysRateLimit_FitTheDocument()
    {
        var contract = await Contract;
        using var anonymous = Anonymous(236);
        await Expect(contract, await anonymous.GetAsync(Url("/health/live")), HttpStatusCode.OK, "/health/live", "get");
        await Expect(contract, await anonymous.GetAsync(Url("/health/ready")), HttpStatusCode.OK, "/health/ready", "get");

        // A public route from one address, faster than its bucket refills: the gateway's 429.
        using var eager = Anonymous(237);
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 40 && limited is null; i++)
        {
            var response = await eager.GetAsync(Url("/v2/health/live"));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            await Expect(contract, limited, HttpStatusCode.TooManyRequests, "/v2/health/live", "get");
        }
    }

    [Fact]
    public async Task Validation_FailsOnAnAnswerThatDoesNotFit()
    {
        var contract = await Contract;
        var schema = contract.ResponseSchema(Predictions, "post", 200, "application/json");
        using var ok = await Keyed.PostAsync(Url(Predictions), Load.Prediction());
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var real = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!.AsObject();
        Assert.Empty(ApiContract.Errors(schema, JsonSerializer.SerializeToElement(real)));

        var withoutModel = real.DeepClone().AsObject();
        withoutModel.Remove("model");
        Assert.NotEmpty(ApiContract.Errors(schema, JsonSerializer.SerializeToElement(withoutModel)));

        var wrongType = real.DeepClone().AsObject();
        wrongType["result"]!["af_risk"]!["probability"] = "high";
        Assert.NotEmpty(ApiContract.Errors(schema, JsonSerializer.SerializeToElement(wrongType)));

        var problem = contract.ResponseSchema(Predictions, "post", 415, "application/problem+json");
        Assert.Empty(ApiContract.Errors(problem, JsonSerializer.SerializeToElement(new { title = "Unsupported ECG format", status = 415 })));
        Assert.NotEmpty(ApiContract.Errors(problem, JsonSerializer.SerializeToElement(new { detail = "no title, no status" })));

        // An answer with a status the operation does not declare fails too.
        using var teapot = new HttpResponseMessage((HttpStatusCode)418) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => contract.AssertConformsAsync(teapot, Predictions, "post"));
    }

    private static async Task<JsonElement> Expect(ApiContract contract, HttpResponseMessage response, HttpStatusCode status, string path, string method)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status,
                $"{method.ToUpperInvariant()} {path}: expected {(int)status}, got {(int)response.StatusCode}: {(text.Length > 500 ? text[..500] : text)}");
            return await contract.AssertConformsAsync(response, path, method);
        }
    }

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files) => Form(files, submitter: true);

    /// <summary>An upload: a name and email (unless <paramref name="submitter"/> is false), then the files as <c>ecg</c> parts.</summary>
    private static MultipartFormDataContent Form((string Name, byte[] Bytes)[] files, bool submitter)
    {
        var form = new MultipartFormDataContent();
        if (submitter)
        {
            form.Add(new StringContent("Contract Test"), "name");
            form.Add(new StringContent("contract@example.org"), "email");
        }

        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "ecg", name);
        }

        return form;
    }
}
