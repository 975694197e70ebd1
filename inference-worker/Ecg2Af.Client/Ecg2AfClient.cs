using System.Diagnostics;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Ecg2Af.Client.Rest;
using Polly;

namespace Ecg2Af.Client;

/// <summary>
/// A typed client of the Ecg2Af REST API: predictions (multipart upload), batch predictions streamed back record by
/// record (NDJSON), preprocessing, and the Open Inference Protocol (JSON tensors and the binary tensor extension).
/// Every call sends the API key (<see cref="Ecg2AfClientOptions.ApiKey"/>), keeps to the deadline
/// (<see cref="Ecg2AfClientOptions.Deadline"/>), retries requests refused for load after their <c>Retry-After</c>,
/// and throws <see cref="Ecg2AfApiException"/> with the service's ProblemDetails for any other refusal.
/// </summary>
/// <remarks>Thread-safe: one client may serve many concurrent calls. The gRPC half of the API is a separate client.</remarks>
public sealed class Ecg2AfClient : IDisposable
{
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> retry;

    /// <summary>Creates a client with its own <see cref="HttpClient"/>.</summary>
    /// <param name="options">Address, key, deadline and retries.</param>
    public Ecg2AfClient(Ecg2AfClientOptions options)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttp: true)
    {
    }

    /// <summary>Creates a client over an <see cref="HttpClient"/> the caller owns (e.g. from IHttpClientFactory).</summary>
    /// <param name="http">The HTTP client; its base address is not used.</param>
    /// <param name="options">Address, key, deadline and retries.</param>
    public Ecg2AfClient(HttpClient http, Ecg2AfClientOptions options)
        : this(http, options, ownsHttp: false)
    {
    }

    private Ecg2AfClient(HttpClient http, Ecg2AfClientOptions options, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.BaseAddress);
        this.http = http;
        this.ownsHttp = ownsHttp;
        Options = options;
        BaseAddress = options.BaseAddress.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
        retry = LoadRetry.Build(options);
    }

    /// <summary>The options the client was made with.</summary>
    public Ecg2AfClientOptions Options { get; }

    /// <summary>The service's address, ending in <c>/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary><c>POST /api/v1/predictions</c>: the prediction for one ECG record.</summary>
    /// <param name="files">The record's file(s): one file, a WFDB pair, or a zip.</param>
    /// <param name="options">Name and email (needed without a key), sample rate, model, priority.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    /// <returns>The service's answer: risk, survival curve, model facts and the notice of a stand-in model.</returns>
    public async Task<JsonDocument> PredictAsync(IEnumerable<EcgFile> files, EcgUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = files.ToList();
        return await JsonAsync(() => Ecg2AfRequests.Prediction(BaseAddress, list, options), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /api/v1/predictions:batch</c>: many records in one request, their answers read as they stream back,
    /// one per record in input order (records that failed carry their own ProblemDetails in the item).
    /// </summary>
    /// <typeparam name="T">The type each NDJSON line is read as (e.g. <see cref="JsonElement"/>).</typeparam>
    /// <param name="files">The records' files (single files, WFDB pairs, zips of many records).</param>
    /// <param name="options">Name and email (needed without a key), sample rate, model, priority.</param>
    /// <param name="json">How to read a line; null for the web defaults (snake_case names as the service writes them).</param>
    /// <param name="cancellationToken">Stops the call and the stream.</param>
    public async IAsyncEnumerable<T> PredictBatchAsync<T>(
        IEnumerable<EcgFile> files, EcgUploadOptions? options = null, JsonSerializerOptions? json = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = files.ToList();
        json ??= new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        using var deadline = Deadline(cancellationToken, out var started);
        using var response = await SendAsync(() => Ecg2AfRequests.Batch(BaseAddress, list, options), started, HttpCompletionOption.ResponseHeadersRead, deadline.Token)
            .ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(deadline.Token).ConfigureAwait(false) is { } line)
            {
                if (line.Length > 0)
                {
                    yield return JsonSerializer.Deserialize<T>(line, json) ?? throw new FormatException("The service sent an empty batch item.");
                }
            }
        }
    }

    /// <summary><c>POST /api/v1/ecg:preprocess</c>: the exact model input for an ECG (or, with <paramref name="stage"/> <c>mv</c>, the decoded millivolt leads).</summary>
    /// <param name="files">The record's file(s).</param>
    /// <param name="stage">Null for the model input; <c>mv</c> for the decoded leads.</param>
    /// <param name="options">Sample rate and other reading hints.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    public async Task<JsonDocument> PreprocessAsync(IEnumerable<EcgFile> files, string? stage = null, EcgUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = files.ToList();
        return await JsonAsync(() => Ecg2AfRequests.Preprocess(BaseAddress, list, stage, options), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /v2/models/{model}/infer</c> for one FP32 input tensor, sent as JSON or with the binary tensor
    /// extension (<paramref name="binary"/>: raw little-endian bytes both ways, much smaller and faster to read).
    /// </summary>
    /// <param name="model">The model name (e.g. <c>ecg2af</c>).</param>
    /// <param name="input">The input tensor's name (the model metadata's input, e.g. from <see cref="PreprocessAsync"/>'s <c>input_name</c>).</param>
    /// <param name="shape">The tensor's shape, e.g. <c>[1, 5000, 12]</c>.</param>
    /// <param name="data">The tensor's values, row-major.</param>
    /// <param name="binary">True for the binary tensor extension, false for JSON tensors.</param>
    /// <param name="version">The model version; null for the newest ready one.</param>
    /// <param name="parameters">Request parameters (e.g. <c>priority</c>); null for none.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    public async Task<InferResult> InferAsync(
        string model, string input, IReadOnlyList<long> shape, ReadOnlyMemory<float> data, bool binary = true, string? version = null,
        IReadOnlyDictionary<string, string>? parameters = null, CancellationToken cancellationToken = default)
    {
        Func<HttpRequestMessage> build;
        if (binary)
        {
            var (body, headerLength) = Ecg2AfRequests.BinaryInferBody(input, shape, data.Span, [], parameters);
            build = () => Ecg2AfRequests.InferBinary(BaseAddress, model, body, headerLength, version);
        }
        else
        {
            var body = Ecg2AfRequests.JsonInferBody(input, shape, data.Span, parameters);
            build = () => Ecg2AfRequests.InferJson(BaseAddress, model, body, version);
        }

        using var deadline = Deadline(cancellationToken, out var started);
        using var response = await SendAsync(build, started, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
        return InferResult.Parse(bytes, InferResult.HeaderLength(response));
    }

    /// <summary><c>GET /v2/models/{model}</c>: the model's OIP metadata (inputs, outputs, versions).</summary>
    /// <param name="model">The model name.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    public Task<JsonDocument> GetModelMetadataAsync(string model, CancellationToken cancellationToken = default) =>
        JsonAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, $"v2/models/{Uri.EscapeDataString(model)}")), cancellationToken);

    /// <summary><c>GET /health/ready</c>: whether the service takes requests now (no retry, no exception for 503).</summary>
    /// <param name="cancellationToken">Stops the call.</param>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        using var request = Ecg2AfRequests.Authorize(new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, "health/ready")), Options.ApiKey);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <summary>
    /// Sends a request with the client's key, deadline and retries, and returns the successful answer (the caller
    /// disposes it). The request is built again for each try, since a request can be sent only once.
    /// </summary>
    /// <param name="build">Builds the request (e.g. with <see cref="Ecg2AfRequests"/>).</param>
    /// <param name="completion">Whether to return as soon as the headers arrive (for streamed answers).</param>
    /// <param name="cancellationToken">Stops the call.</param>
    /// <exception cref="Ecg2AfApiException">The service refused the request (after the retries, for load refusals).</exception>
    public async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> build, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(build);
        // The deadline's source must outlive a streamed answer, so this overload keeps to the deadline only while
        // the answer's headers (or, with ResponseContentRead, its body) arrive.
        using var deadline = Deadline(cancellationToken, out var started);
        return await SendAsync(build, started, completion, deadline.Token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (ownsHttp)
        {
            http.Dispose();
        }
    }

    private async Task<JsonDocument> JsonAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken, out var started);
        using var response = await SendAsync(build, started, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await JsonDocument.ParseAsync(stream, default, deadline.Token).ConfigureAwait(false);
        }
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken, out long started) =>
        CallDeadline.Start(Options.Deadline, cancellationToken, out started);

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, long started, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var response = await retry.ExecuteAsync(
            async token =>
            {
                var left = Options.Deadline is { } deadline ? deadline - Stopwatch.GetElapsedTime(started) : (TimeSpan?)null;
                using var request = Ecg2AfRequests.Authorize(build(), Options.ApiKey, left);
                if (request.Headers.Accept.Count == 0)
                {
                    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                }

                return await http.SendAsync(request, completion, token).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await Ecg2AfApiException.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }
}
