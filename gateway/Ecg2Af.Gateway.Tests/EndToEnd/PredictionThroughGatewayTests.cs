using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>The foundation's user path: a real ECG file through the real gateway to real workers on loopback.</summary>
[Collection(ClusterCollection.Name)]
public class PredictionThroughGatewayTests(ClusterFixture fixture)
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(60) };

    private Uri Predictions => new(fixture.Cluster.GatewayUrl, "/api/v1/predictions");

    private static MultipartFormDataContent Upload(string path, string name = "Test", string email = "test@example.org")
    {
        var file = new ByteArrayContent(File.ReadAllBytes(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { file, "ecg", Path.GetFileName(path) },
            { new StringContent(name), "name" },
            { new StringContent(email), "email" },
        };
    }

    [Fact]
    public async Task Predict_MuseXml_ReturnsDecodedStandInResult()
    {
        using var response = await Client.PostAsync(Predictions, Upload(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml")));
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.StartsWith("worker-", response.Headers.GetValues("X-Ecg2Af-Worker").Single(), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var result = root.GetProperty("result");

        var risk = result.GetProperty("af_risk").GetProperty("probability").GetDouble();
        Assert.InRange(risk, double.Epsilon, 1 - 1e-12);
        Assert.Equal(5.0, result.GetProperty("af_risk").GetProperty("horizon_years").GetDouble());

        var curve = result.GetProperty("survival_curve").EnumerateArray().Select(p => p.GetProperty("af_free_probability").GetDouble()).ToList();
        Assert.Equal(25, curve.Count);
        Assert.All(curve.Zip(curve.Skip(1)), pair => Assert.True(pair.Second <= pair.First));
        Assert.Equal(1 - curve[^1], risk, 12);

        var sex = result.GetProperty("sex");
        Assert.Equal(1.0, sex.GetProperty("female").GetDouble() + sex.GetProperty("male").GetDouble(), 5);
        Assert.InRange(result.GetProperty("af_in_ecg_probability").GetDouble(), 0, 1);
        Assert.True(result.GetProperty("age_years").GetDouble() > 0);

        var model = root.GetProperty("model");
        Assert.Equal("stand-in", model.GetProperty("weights").GetString());
        // The provider the answering worker's own metadata reports, and the one this host can run.
        var worker = fixture.Cluster.WorkerUrls[int.Parse(response.Headers.GetValues("X-Ecg2Af-Worker").Single()["worker-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
        using var metadataRequest = fixture.Cluster.ApiKey.Authorize(new HttpRequestMessage(HttpMethod.Get, new Uri(worker, "/v2/models/ecg2af")));
        using var metadataResponse = await Client.SendAsync(metadataRequest);
        metadataResponse.EnsureSuccessStatusCode();
        using var metadata = JsonDocument.Parse(await metadataResponse.Content.ReadAsStringAsync());
        Assert.Equal(metadata.RootElement.GetProperty("parameters").GetProperty("execution_provider").GetString(), model.GetProperty("execution_provider").GetString());
        Assert.Equal(HostCapability.ExpectedProvider, model.GetProperty("execution_provider").GetString());
        Assert.Equal(64, model.GetProperty("sha256").GetString()!.Length);
        Assert.Contains("not clinically meaningful", root.GetProperty("notice").GetString(), StringComparison.Ordinal);

        var input = root.GetProperty("input");
        Assert.Equal(500, input.GetProperty("source_sample_rate_hz").GetDouble());
        Assert.Equal(["III", "aVR", "aVL", "aVF"], input.GetProperty("leads_derived").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Predict_SameFileTwice_IdenticalNumbers()
    {
        var path = RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml");
        using var first = await Client.PostAsync(Predictions, Upload(path));
        using var second = await Client.PostAsync(Predictions, Upload(path));

        using var a = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        using var b = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal(a.RootElement.GetProperty("result").GetRawText(), b.RootElement.GetProperty("result").GetRawText());
        Assert.NotEqual(a.RootElement.GetProperty("id").GetString(), b.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Predict_NotAnEcg_ProblemDetailsAndWorkersKeepServing()
    {
        var notEcg = Path.Combine(Path.GetTempPath(), $"notes-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(notEcg, "Shopping list: milk, eggs, bread.\n");
        try
        {
            using var response = await Client.PostAsync(Predictions, Upload(notEcg));
            Assert.True(response.StatusCode is HttpStatusCode.UnsupportedMediaType or HttpStatusCode.UnprocessableEntity, response.StatusCode.ToString());
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Contains("MUSE", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notEcg);
        }

        using var after = await Client.PostAsync(Predictions, Upload(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml")));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Predict_BadEmailAndNoFile_ValidationProblemPerField()
    {
        using var content = new MultipartFormDataContent
        {
            { new StringContent("Test"), "name" },
            { new StringContent("not-an-address"), "email" },
        };
        using var response = await Client.PostAsync(Predictions, content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("ecg", out _));
        Assert.DoesNotContain("not-an-address", problem.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_ServesWebForm()
    {
        var html = await Client.GetStringAsync(fixture.Cluster.GatewayUrl);

        Assert.Contains("<form id=\"predict-form\"", html, StringComparison.Ordinal);
    }
}
