using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Ecg2Af.Client.Rest;

/// <summary>
/// The HTTP requests of the Ecg2Af REST API, built exactly as <see cref="Ecg2AfClient"/> sends them. Programs that
/// measure the service (the load tool) send these themselves so that they time the same requests a client makes.
/// The requests carry no key and no deadline: <see cref="Ecg2AfClient"/> adds those per attempt (see
/// <see cref="Authorize"/>).
/// </summary>
public static class Ecg2AfRequests
{
    /// <summary>The header that names the scheduling lane (<c>stat</c>, <c>routine</c>, <c>batch</c>).</summary>
    public const string PriorityHeader = "X-Ecg2Af-Priority";

    /// <summary>The header that gives the service the time left to answer, in milliseconds.</summary>
    public const string DeadlineHeader = "X-Ecg2Af-Deadline-Ms";

    /// <summary>The header that names the worker that answered.</summary>
    public const string WorkerHeader = "X-Ecg2Af-Worker";

    /// <summary>The OIP binary tensor extension's header: the length of the JSON part of a request or answer.</summary>
    public const string InferenceHeaderContentLength = "Inference-Header-Content-Length";

    /// <summary>The service's path for one prediction.</summary>
    public const string PredictionsPath = "api/v1/predictions";

    /// <summary>The service's path for many predictions in one request.</summary>
    public const string BatchPath = "api/v1/predictions:batch";

    /// <summary>The service's path for the model input of an ECG.</summary>
    public const string PreprocessPath = "api/v1/ecg:preprocess";

    /// <summary>The media type of a streamed batch answer, one JSON object a line.</summary>
    public const string NdjsonMediaType = "application/x-ndjson";

    /// <summary><c>POST /api/v1/predictions</c>: one record's file(s) as <c>ecg</c> parts, with the options as form fields.</summary>
    /// <param name="baseAddress">The gateway or worker.</param>
    /// <param name="files">The record's files.</param>
    /// <param name="options">Name, email, sample rate, model, priority; null for none.</param>
    public static HttpRequestMessage Prediction(Uri baseAddress, IEnumerable<EcgFile> files, EcgUploadOptions? options = null) =>
        Post(baseAddress, PredictionsPath, Form(files, options));

    /// <summary>
    /// <c>POST /api/v1/predictions:batch</c>: the files of many records as <c>ecg</c> parts (single files, WFDB pairs,
    /// zips of many records); the answer is asked for as NDJSON, one line per record in input order, streamed.
    /// </summary>
    /// <param name="baseAddress">The gateway or worker.</param>
    /// <param name="files">The records' files.</param>
    /// <param name="options">Name, email, sample rate, model, priority; null for none.</param>
    public static HttpRequestMessage Batch(Uri baseAddress, IEnumerable<EcgFile> files, EcgUploadOptions? options = null)
    {
        var request = Post(baseAddress, BatchPath, Form(files, options));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(NdjsonMediaType));
        return request;
    }

    /// <summary><c>POST /api/v1/ecg:preprocess</c>: the exact model input for an ECG, or with <paramref name="stage"/> <c>mv</c> the decoded millivolt leads.</summary>
    /// <param name="baseAddress">The gateway or worker.</param>
    /// <param name="files">The record's files.</param>
    /// <param name="stage">Null for the model input; <c>mv</c> for the decoded leads.</param>
    /// <param name="options">Sample rate and other reading hints; null for none.</param>
    public static HttpRequestMessage Preprocess(Uri baseAddress, IEnumerable<EcgFile> files, string? stage = null, EcgUploadOptions? options = null) =>
        Post(baseAddress, stage is null ? PreprocessPath : $"{PreprocessPath}?stage={Uri.EscapeDataString(stage)}", Form(files, options));

    /// <summary><c>POST /v2/models/{model}/infer</c> with JSON tensors (the request body as given, UTF-8 JSON).</summary>
    /// <param name="baseAddress">The gateway or worker.</param>
    /// <param name="model">The model name.</param>
    /// <param name="json">The OIP request body.</param>
    /// <param name="version">The model version; null for the newest ready one.</param>
    public static HttpRequestMessage InferJson(Uri baseAddress, string model, ReadOnlyMemory<byte> json, string? version = null)
    {
        var content = new ReadOnlyMemoryContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Post(baseAddress, InferPath(model, version), content);
    }

    /// <summary>
    /// <c>POST /v2/models/{model}/infer</c> with the binary tensor extension: the body is a JSON header of
    /// <paramref name="headerLength"/> bytes, then the tensors' raw little-endian bytes.
    /// </summary>
    /// <param name="baseAddress">The gateway or worker.</param>
    /// <param name="model">The model name.</param>
    /// <param name="body">JSON header followed by the raw tensor bytes.</param>
    /// <param name="headerLength">The JSON header's length in bytes.</param>
    /// <param name="version">The model version; null for the newest ready one.</param>
    public static HttpRequestMessage InferBinary(Uri baseAddress, string model, ReadOnlyMemory<byte> body, int headerLength, string? version = null)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(InferenceHeaderContentLength, headerLength.ToString(CultureInfo.InvariantCulture));
        return Post(baseAddress, InferPath(model, version), content);
    }

    /// <summary>
    /// The body of a binary-extension OIP request for one FP32 input: the JSON header (inputs with
    /// <c>binary_data_size</c>, every output asked for as binary) and the raw tensor. Returns the body and the header's length.
    /// </summary>
    /// <param name="input">The input tensor's name.</param>
    /// <param name="shape">The input tensor's shape.</param>
    /// <param name="data">The tensor's values, row-major.</param>
    /// <param name="outputs">The outputs to ask for; empty for all.</param>
    /// <param name="parameters">Request parameters (e.g. <c>priority</c>); null for none.</param>
    public static (byte[] Body, int HeaderLength) BinaryInferBody(
        string input, IReadOnlyList<long> shape, ReadOnlySpan<float> data, IReadOnlyList<string> outputs, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var header = new Dictionary<string, object>
        {
            ["inputs"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["name"] = input, ["datatype"] = "FP32", ["shape"] = shape,
                    ["parameters"] = new Dictionary<string, object> { ["binary_data_size"] = data.Length * sizeof(float) },
                },
            },
            ["parameters"] = Parameters(parameters, binaryOutputs: outputs.Count == 0),
        };
        if (outputs.Count > 0)
        {
            header["outputs"] = outputs.Select(o => new Dictionary<string, object>
            {
                ["name"] = o, ["parameters"] = new Dictionary<string, object> { ["binary_data"] = true },
            }).ToArray();
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var body = new byte[json.Length + (data.Length * sizeof(float))];
        json.CopyTo(body, 0);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).CopyTo(body.AsSpan(json.Length));
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The binary tensor extension is little-endian; this machine is not.");
        }

        return (body, json.Length);
    }

    /// <summary>The body of a JSON OIP request for one FP32 input.</summary>
    /// <param name="input">The input tensor's name.</param>
    /// <param name="shape">The input tensor's shape.</param>
    /// <param name="data">The tensor's values, row-major.</param>
    /// <param name="parameters">Request parameters (e.g. <c>priority</c>); null for none.</param>
    public static byte[] JsonInferBody(string input, IReadOnlyList<long> shape, ReadOnlySpan<float> data, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var body = new Dictionary<string, object>
        {
            ["inputs"] = new[] { new Dictionary<string, object> { ["name"] = input, ["datatype"] = "FP32", ["shape"] = shape, ["data"] = data.ToArray() } },
        };
        if (parameters is { Count: > 0 })
        {
            body["parameters"] = parameters;
        }

        return JsonSerializer.SerializeToUtf8Bytes(body);
    }

    /// <summary>Adds the API key (<c>Authorization: Bearer</c>) and the time left (<c>X-Ecg2Af-Deadline-Ms</c>) to a request.</summary>
    /// <param name="request">The request.</param>
    /// <param name="apiKey">The key; null adds none.</param>
    /// <param name="timeLeft">The time left; null adds no deadline.</param>
    public static HttpRequestMessage Authorize(HttpRequestMessage request, string? apiKey, TimeSpan? timeLeft = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (timeLeft is { } left)
        {
            var ms = Math.Max(1, (long)Math.Ceiling(left.TotalMilliseconds));
            request.Headers.Remove(DeadlineHeader);
            request.Headers.Add(DeadlineHeader, ms.ToString(CultureInfo.InvariantCulture));
        }

        return request;
    }

    /// <summary>Sets the scheduling lane header.</summary>
    /// <param name="request">The request.</param>
    /// <param name="priority">The lane; null leaves the request as it is.</param>
    public static HttpRequestMessage WithPriority(HttpRequestMessage request, string? priority)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (priority is not null)
        {
            request.Headers.Add(PriorityHeader, priority);
        }

        return request;
    }

    private static Dictionary<string, object> Parameters(IReadOnlyDictionary<string, string>? parameters, bool binaryOutputs)
    {
        var all = parameters?.ToDictionary(p => p.Key, p => (object)p.Value) ?? [];
        if (binaryOutputs)
        {
            all["binary_data_output"] = true;
        }

        return all;
    }

    private static string InferPath(string model, string? version) => version is null
        ? $"v2/models/{Uri.EscapeDataString(model)}/infer"
        : $"v2/models/{Uri.EscapeDataString(model)}/versions/{Uri.EscapeDataString(version)}/infer";

    private static HttpRequestMessage Post(Uri baseAddress, string path, HttpContent content) =>
        new(HttpMethod.Post, new Uri(baseAddress, path)) { Content = content };

    private static MultipartFormDataContent Form(IEnumerable<EcgFile> files, EcgUploadOptions? options)
    {
        var form = new MultipartFormDataContent();
        foreach (var file in files)
        {
            var part = new ReadOnlyMemoryContent(file.Content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "ecg", file.Name);
        }

        if (options is null)
        {
            return form;
        }

        void Field(string name, string? value)
        {
            if (value is not null)
            {
                form.Add(new StringContent(value, Encoding.UTF8), name);
            }
        }

        Field("name", options.Name);
        Field("email", options.Email);
        Field("sample_rate_hz", options.SampleRateHz?.ToString("R", CultureInfo.InvariantCulture));
        Field("model", options.Model);
        Field("version", options.Version);
        Field("priority", options.Priority);
        foreach (var (key, value) in options.Fields ?? new Dictionary<string, string>())
        {
            Field(key, value);
        }

        return form;
    }
}
