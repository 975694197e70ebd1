using System.Net;
using System.Text;
using System.Text.Json;
using Ecg2Af.LocalCluster;
using Ecg2Af.Worker.Tests.Serving;
using static Ecg2Af.Worker.Tests.InferenceProtocol.OipClient;

namespace Ecg2Af.Worker.Tests.Hardening;

/// <summary>A real worker with <see cref="FaultInjection"/> loaded (requests without its header are served normally).</summary>
public sealed class HostileWorkerFixture(StandInRepository repository) : IAsyncLifetime
{
    internal WorkerProcess Worker { get; private set; } = null!;

    public async Task InitializeAsync() => Worker = await WorkerProcess.StartAsync(repository.Root, FaultInjection.Environment());

    public async Task DisposeAsync() => await Worker.DisposeAsync();
}

/// <summary>
/// Hostile input costs no more than its bound (issue 13, item 3), against a real worker process: a declared 2 GB body
/// is refused before it is read or allocated; non-finite binary tensors are 400; malformed envelopes are 400
/// ProblemDetails; a fault inside the service is a 500 with a trace id and none of its text.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class HostileInputTests(HostileWorkerFixture fixture) : IClassFixture<HostileWorkerFixture>
{
    private const string Infer = "/v2/models/ecg2af/infer";
    private const string Boundary = "hostile-input-boundary";

    private WorkerProcess Worker => fixture.Worker;

    public static TheoryData<string, string> BodyRoutes => new()
    {
        { Infer, "application/json" },
        { "/api/v1/predictions", $"multipart/form-data; boundary={Boundary}" },
        { "/api/v1/ecg:preprocess", $"multipart/form-data; boundary={Boundary}" },
        { "/api/v1/predictions:batch", $"multipart/form-data; boundary={Boundary}" },
    };

    [Theory]
    [MemberData(nameof(BodyRoutes))]
    public async Task Declared2GbBody_TinyBodySent_413BeforeReadingAndRssBounded(string route, string contentType)
    {
        var rssBefore = ProcessMemory.Kb(Worker.Process.ProcessId, "VmRSS") * 1024;
        for (var i = 0; i < 3; i++)
        {
            // The body is never sent: an answer at all proves the worker did not wait for it.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var (status, type, body) = await HostileEnvelopes.SendRawAsync(Worker.Url, route, [new("Content-Type", contentType), new("Authorization", "Bearer " + Worker.ApiKey.Key)],
                "{\"inputs\""u8.ToArray(), 2_000_000_000, timeout.Token, endBody: false);

            Assert.Equal(413, status);
            Assert.Contains(route.StartsWith("/v2/", StringComparison.Ordinal) ? "\"error\"" : "\"status\":413", body, StringComparison.Ordinal);
            Assert.NotNull(type);
        }

        var growth = ProcessMemory.Kb(Worker.Process.ProcessId, "VmRSS") * 1024 - rssBefore;
        Assert.True(growth < 50L * 1024 * 1024, $"The worker's RSS grew by {growth / (1024.0 * 1024):F1} MB");
    }

    [Theory]
    [InlineData(float.NaN, true)]
    [InlineData(float.NaN, false)]
    [InlineData(float.PositiveInfinity, false)]
    [InlineData(float.NegativeInfinity, true)]
    public async Task BinaryTensor_NonFinite_400WholeAnswer(float value, bool binaryOutputs)
    {
        var data = RandomEcg(7);
        data[12_345] = value;

        var response = await InferAsync(Worker.Client, Infer, Binary(data, binaryOutputs: binaryOutputs));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("non-finite", (string)response.Json["error"]!, StringComparison.Ordinal);
        Assert.Contains("12345", (string)response.Json["error"]!, StringComparison.Ordinal);

        var raw = await InferAsync(Worker.Client, Infer, Raw(data));
        Assert.Equal(HttpStatusCode.BadRequest, raw.Status);
    }

    [Theory]
    [InlineData("/api/v1/predictions")]
    [InlineData("/api/v1/ecg:preprocess")]
    public async Task InjectedInternalFailure_500ProblemWithTraceIdAndNoInternalText(string route)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = MuseForm() };
        request.Headers.Add(FaultInjection.Header, "1");

        using var response = await Worker.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.InternalServerError, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(500, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", problem.RootElement.GetProperty("trace_id").GetString());
        Assert.DoesNotContain("injected-internal-fault", body, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);

        // The same request without the injected fault is served: the failure was the injection, not the input.
        using var normal = await Worker.Client.PostAsync(new Uri(route, UriKind.Relative), MuseForm());
        Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
    }

    public static TheoryData<string, string, string> MalformedForms()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var route in new[] { "/api/v1/predictions", "/api/v1/ecg:preprocess", "/api/v1/predictions:batch" })
        {
            data.Add(route, "multipart/form-data", "no boundary");
            data.Add(route, "multipart/form-data; boundary=some-other-boundary", "mismatched boundary");
            data.Add(route, $"multipart/form-data; boundary={Boundary}", "truncated");
            data.Add(route, $"multipart/form-data; boundary={Boundary}", "overlong part header");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedForms))]
    public async Task MalformedMultipart_400ProblemDetails(string route, string contentType, string what)
    {
        var body = Encoding.ASCII.GetString(MultipartBytes());
        body = what switch
        {
            "truncated" => body[..(body.Length / 2)],
            "overlong part header" => body.Replace("Content-Type: application/xml", "Content-Type: application/xml\r\nX-Long: " + new string('h', 20_000), StringComparison.Ordinal),
            _ => body,
        };
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await Worker.Client.PostAsync(new Uri(route, UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Theory]
    [InlineData("{\"inputs\": [", null)]
    [InlineData("not json at all", null)]
    [InlineData("{\"inputs\": []}", "abc")]
    [InlineData("{\"inputs\": []}", "-1")]
    [InlineData("{\"inputs\": []}", "99999")]
    public async Task MalformedOipBody_400ProtocolError(string json, string? headerLength)
    {
        var content = new StringContent(json, Encoding.UTF8, "application/json");
        if (headerLength is not null)
        {
            content.Headers.Add(HeaderLength, headerLength);
        }

        var response = await InferAsync(Worker.Client, Infer, content);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.False(string.IsNullOrWhiteSpace((string?)response.Json["error"]));
    }

    [Fact]
    public async Task Predict_IncludeLeadsMv_TheSameLeadsAsPreprocessFromOneUpload()
    {
        using var with = await Worker.Client.PostAsync(new Uri("/api/v1/predictions?include=leads_mv", UriKind.Relative), MuseForm());
        using var without = await Worker.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), MuseForm());
        using var preprocess = await Worker.Client.PostAsync(new Uri("/api/v1/ecg:preprocess?stage=mv", UriKind.Relative), MuseForm());
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal(HttpStatusCode.OK, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, preprocess.StatusCode);

        using var answer = JsonDocument.Parse(await with.Content.ReadAsStringAsync());
        using var plain = JsonDocument.Parse(await without.Content.ReadAsStringAsync());
        using var mv = JsonDocument.Parse(await preprocess.Content.ReadAsStringAsync());
        var leads = answer.RootElement.GetProperty("leads_mv");
        Assert.Equal(12, leads.GetProperty("leads").EnumerateObject().Count());
        Assert.Equal(mv.RootElement.GetRawText(), leads.GetRawText());
        Assert.False(plain.RootElement.TryGetProperty("leads_mv", out _));
        Assert.Equal(plain.RootElement.GetProperty("result").GetRawText(), answer.RootElement.GetProperty("result").GetRawText());
    }

    /// <summary>A well-formed prediction form with the MUSE sample.</summary>
    internal static HttpContent MuseForm()
    {
        var content = new ByteArrayContent(MultipartBytes());
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={Boundary}");
        return content;
    }

    private static byte[] MultipartBytes()
    {
        var head = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nHostile Tester\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\nContent-Type: text/plain\r\n\r\nhostile@example.org\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"ecg\"; filename=\"muse-sinus.xml\"\r\nContent-Type: application/xml\r\n\r\n";
        var ecg = File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml"));
        return [.. Encoding.ASCII.GetBytes(head), .. ecg, .. Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n")];
    }
}
