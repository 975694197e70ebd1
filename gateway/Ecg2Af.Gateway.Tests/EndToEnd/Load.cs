using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>Requests the end-to-end tests send, and a round of one request per client (sent by the load tool's engine).</summary>
public static class Load
{
    /// <summary>The worker header every worker response carries.</summary>
    public const string WorkerHeader = RequestExecutor.WorkerHeader;

    private static readonly Lazy<(byte[] Header, byte[] Data)> SmallRecord = new(() => (
        File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb", "00001_lr.hea")),
        File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb", "00001_lr.dat"))));

    public static Uri PreprocessUrl(Uri gateway) => new(gateway, "/api/v1/ecg:preprocess");

    public static Uri PredictionsUrl(Uri gateway) => new(gateway, "/api/v1/predictions");

    /// <summary>
    /// A cheap real request: the worker decodes a 10 s, 100 Hz WFDB record (PTB-XL 00001_lr, 24 kB) and returns
    /// its millivolt leads; no model run, so it costs a few milliseconds.
    /// </summary>
    public static HttpContent PreprocessMv()
    {
        var (header, data) = SmallRecord.Value;
        return new MultipartFormDataContent
        {
            { Part("00001_lr.hea", header), "ecg", "00001_lr.hea" },
            { Part("00001_lr.dat", data), "ecg", "00001_lr.dat" },
            { new StringContent("mv"), "stage" },
        };
    }

    /// <summary>A prediction upload of the small WFDB record (one model run, about 150–200 ms of CPU).</summary>
    public static HttpContent Prediction()
    {
        var (header, data) = SmallRecord.Value;
        return new MultipartFormDataContent
        {
            { Part("00001_lr.hea", header), "ecg", "00001_lr.hea" },
            { Part("00001_lr.dat", data), "ecg", "00001_lr.dat" },
            { new StringContent("Test"), "name" },
            { new StringContent("test@example.org"), "email" },
        };
    }

    /// <summary>
    /// The cheapest request that still carries an upload: a prediction of a text file, which the worker refuses
    /// with a small 415 ProblemDetails (from the worker, with its header) after reading the form.
    /// </summary>
    public static HttpContent NotAnEcgPrediction() => new MultipartFormDataContent
    {
        { Part("notes.txt", "Shopping list: milk, eggs, bread.\n"u8.ToArray()), "ecg", "notes.txt" },
        { new StringContent("Test"), "name" },
        { new StringContent("test@example.org"), "email" },
    };

    /// <summary>A worker's deliberate answer to <see cref="NotAnEcgPrediction"/>.</summary>
    public static bool RefusedByWorker(HttpResponseMessage response) => RefusedByWorker((int)response.StatusCode, Worker(response));

    /// <summary>A worker's deliberate answer to <see cref="NotAnEcgPrediction"/>, as the engine recorded it.</summary>
    public static bool RefusedByWorker(Outcome outcome) => RefusedByWorker(outcome.Status, outcome.Worker);

    private static bool RefusedByWorker(int status, string? worker) => status == (int)HttpStatusCode.UnsupportedMediaType && worker is not null;

    private static ByteArrayContent Part(string name, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    /// <summary>The worker that produced a response (null when the gateway answered itself).</summary>
    public static string? Worker(HttpResponseMessage response) =>
        response.Headers.TryGetValues(WorkerHeader, out var values) ? values.Single() : null;

    /// <summary>
    /// One POST per client, at most <paramref name="parallel"/> at a time, each sent and recorded by the load tool's
    /// engine (<see cref="RequestExecutor"/>). A failure is any outcome <paramref name="expected"/> rejects (by default
    /// anything but a worker's 200) or no answer at all.
    /// </summary>
    public static async Task<Round> RoundAsync(
        IReadOnlyList<HttpClient> clients, Uri gateway, Func<HttpContent> content, int parallel = 8, string path = "/api/v1/ecg:preprocess",
        Func<Outcome, bool>? expected = null)
    {
        expected ??= o => o.Status == (int)HttpStatusCode.OK && o.Worker is not null;
        var url = new Uri(gateway, path);
        var step = new StepDefinition("round", 1, _ => new HttpRequestMessage(HttpMethod.Post, url) { Content = content() });
        var outcomes = new Outcome[clients.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, clients.Count), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) =>
            outcomes[i] = await RequestExecutor.SendAsync(clients[i], step, new RequestContext(i, i), Stopwatch.GetTimestamp(), ct));
        var failures = outcomes.Select((o, i) => expected(o) ? null : $"client {i}: {o.StatusKey} from {o.Worker ?? "the gateway"}").OfType<string>();
        return new Round([.. outcomes.Select(o => o.Worker)], [.. failures]);
    }

    public sealed record Round(IReadOnlyList<string?> Workers, IReadOnlyList<string> Failures);
}
