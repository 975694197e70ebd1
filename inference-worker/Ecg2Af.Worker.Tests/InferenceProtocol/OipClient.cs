using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ecg2Af.Worker.Tests.InferenceProtocol;

/// <summary>An OIP response: status, headers, the JSON part and the binary outputs by name.</summary>
internal sealed record OipResponse(HttpStatusCode Status, HttpResponseHeaders Headers, string? ContentType, JsonObject Json, IReadOnlyDictionary<string, float[]> Binary)
{
    /// <summary>An output's values, from JSON <c>data</c> or from the binary section.</summary>
    public float[] Output(string name)
    {
        if (Binary.TryGetValue(name, out var values))
        {
            return values;
        }

        var output = Json["outputs"]!.AsArray().Single(o => (string)o!["name"]! == name)!;
        return output["data"]!.AsArray().Select(v => (float)v!).ToArray();
    }

    public string ModelVersion => (string)Json["model_version"]!;

    public int BatchSize => (int)Json["parameters"]!["batch_size"]!;
}

/// <summary>Builds OIP v2 inference requests (JSON tensors or the binary extension) and reads the responses.</summary>
internal static class OipClient
{
    public const string InputName = "input_ecg_5000_std_continuous";
    public const string HeaderLength = "Inference-Header-Content-Length";

    /// <summary>A z-scored-looking pseudo-random ECG tensor, different for each seed.</summary>
    public static float[] RandomEcg(int seed, int items = 1, int length = 60_000)
    {
        var random = new Random(seed);
        var data = new float[items * length];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        return data;
    }

    public static HttpContent Json(float[] data, int items = 1, string? id = null, JsonObject? parameters = null, JsonArray? outputs = null,
        string inputName = InputName, int samples = 5000, int leads = 12)
    {
        var request = new JsonObject();
        if (id is not null)
        {
            request["id"] = id;
        }

        if (parameters is not null)
        {
            request["parameters"] = parameters;
        }

        request["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = inputName,
            ["shape"] = new JsonArray(items, samples, leads),
            ["datatype"] = "FP32",
            ["data"] = new JsonArray(data.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
        });
        if (outputs is not null)
        {
            request["outputs"] = outputs;
        }

        return new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
    }

    /// <summary>The binary tensor extension: JSON header, then the FP32 bytes; all outputs binary unless told otherwise.</summary>
    public static HttpContent Binary(float[] data, int items = 1, JsonObject? parameters = null, JsonArray? outputs = null, bool binaryOutputs = true)
    {
        parameters ??= [];
        parameters["binary_data_output"] = binaryOutputs;
        var header = new JsonObject
        {
            ["parameters"] = parameters,
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = InputName,
                ["shape"] = new JsonArray(items, 5000, 12),
                ["datatype"] = "FP32",
                ["parameters"] = new JsonObject { ["binary_data_size"] = data.Length * sizeof(float) },
            }),
        };
        if (outputs is not null)
        {
            header["outputs"] = outputs;
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var body = new byte[json.Length + (data.Length * sizeof(float))];
        json.CopyTo(body, 0);
        MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(body.AsSpan(json.Length));
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(HeaderLength, json.Length.ToString(CultureInfo.InvariantCulture));
        return content;
    }

    /// <summary>A raw binary request: <c>Inference-Header-Content-Length: 0</c> and the tensor bytes only.</summary>
    public static HttpContent Raw(float[] data)
    {
        var content = new ByteArrayContent(MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(HeaderLength, "0");
        return content;
    }

    public static Task<OipResponse> InferAsync(HttpClient client, string path, HttpContent content, params (string Name, string Value)[] headers) =>
        InferAsync(client, path, content, CancellationToken.None, headers);

    public static async Task<OipResponse> InferAsync(
        HttpClient client, string path, HttpContent content, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = content };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var jsonLength = response.Headers.TryGetValues(HeaderLength, out var values) ? int.Parse(values.Single(), CultureInfo.InvariantCulture) : body.Length;
        var json = JsonNode.Parse(body.AsSpan(0, jsonLength))!.AsObject();
        var binary = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var offset = jsonLength;
        foreach (var output in json["outputs"]?.AsArray() ?? [])
        {
            if (output!["parameters"]?["binary_data_size"] is { } size)
            {
                var bytes = (int)size;
                binary[(string)output["name"]!] = MemoryMarshal.Cast<byte, float>(body.AsSpan(offset, bytes)).ToArray();
                offset += bytes;
            }
        }

        Assert.Equal(body.Length, offset);
        return new OipResponse(response.StatusCode, response.Headers, response.Content.Headers.ContentType?.MediaType, json, binary);
    }

    public static async Task<(HttpStatusCode Status, JsonObject Json)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text) is JsonObject o ? o : new JsonObject { ["_array"] = JsonNode.Parse(text) });
    }

    /// <summary>The property names of a JSON object, sorted.</summary>
    public static string[] Keys(JsonNode? node) => node!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();

    public static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;
}
