using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ecg2Af.LocalCluster;
using Json.Schema;

namespace Ecg2Af.Gateway.Tests.Contract;

/// <summary>
/// The OpenAPI document (<c>GET /openapi/v1.json</c> through a real gateway) as a JSON Schema 2020-12 base document:
/// an answer's body is evaluated against the schema the document declares for its operation, status and content
/// type, with every <c>$ref</c> into <c>components</c> resolved by JsonSchema.Net. An answer whose status or content
/// type the document does not name fails as surely as one whose body does not fit.
/// </summary>
internal sealed class ApiContract
{
    /// <summary>Where the document is registered; never fetched (the tests have no network).</summary>
    private static readonly Uri DocumentUri = new("https://ecg2af.invalid/openapi/v1.json");

    private static readonly ConcurrentDictionary<Uri, Lazy<Task<ApiContract>>> ByGateway = new();

    private readonly BuildOptions _build;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);
    private int _built;

    public ApiContract(string documentJson)
    {
        Text = documentJson;
        var node = JsonNode.Parse(documentJson)!;
        // Absolute references, so that a schema built on its own (the one of a response) still resolves them.
        MakeReferencesAbsolute(node);
        Root = JsonSerializer.SerializeToElement(node);
        var registry = new SchemaRegistry();
        registry.Register(DocumentUri, new JsonElementBaseDocument(Root, DocumentUri));
        _build = new BuildOptions { SchemaRegistry = registry };
    }

    /// <summary>The document as served.</summary>
    public string Text { get; }

    /// <summary>The document, its references made absolute.</summary>
    public JsonElement Root { get; }

    /// <summary>
    /// The document through <paramref name="gateway"/>, fetched once per gateway from a loopback address of its own
    /// (the document is a public route, rate-limited per client address).
    /// </summary>
    public static Task<ApiContract> FetchAsync(Uri gateway) =>
        ByGateway.GetOrAdd(gateway, g => new Lazy<Task<ApiContract>>(async () =>
        {
            using var client = LoopbackClients.Create(LoopbackClients.Address(230), TimeSpan.FromSeconds(60));
            using var response = await client.GetAsync(new Uri(g, "/openapi/v1.json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET /openapi/v1.json: {(int)response.StatusCode} {text}");
            return new ApiContract(text);
        })).Value;

    /// <summary>The operation object of <paramref name="method"/> <paramref name="path"/> (the document's path template).</summary>
    public JsonElement Operation(string path, string method)
    {
        Assert.True(Root.GetProperty("paths").TryGetProperty(path, out var item), $"The document has no path {path}.");
        Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out var operation), $"The document has no {method.ToUpperInvariant()} {path}.");
        return operation;
    }

    /// <summary>The schema declared for an answer; fails naming what the document lacks.</summary>
    public JsonSchema ResponseSchema(string path, string method, int status, string mediaType)
    {
        var code = status.ToString(CultureInfo.InvariantCulture);
        var responses = Operation(path, method).GetProperty("responses");
        Assert.True(responses.TryGetProperty(code, out var response),
            $"{method.ToUpperInvariant()} {path} answered {status}, which the document does not declare (it declares {string.Join(", ", responses.EnumerateObject().Select(p => p.Name))}).");
        var media = default(JsonElement);
        Assert.True(response.TryGetProperty("content", out var content) && content.TryGetProperty(mediaType, out media),
            $"{method.ToUpperInvariant()} {path} answered {status} as {mediaType}, which the document does not declare for it.");
        Assert.True(media.TryGetProperty("schema", out var schema), $"{method.ToUpperInvariant()} {path} {status} {mediaType} has no schema.");
        return Build($"{method} {path} {code} {mediaType}", schema);
    }

    /// <summary>Builds <paramref name="schema"/> (an element of the document) on a base URI of its own.</summary>
    public JsonSchema Build(string key, JsonElement schema) =>
        _schemas.GetOrAdd(key, _ =>
        {
            var uri = new Uri($"https://ecg2af.invalid/schemas/{Interlocked.Increment(ref _built)}");
            return JsonSchema.Build(schema, _build, uri);
        });

    /// <summary>The messages of every failed keyword of <paramref name="instance"/> against <paramref name="schema"/>; empty when it is valid.</summary>
    public static IReadOnlyList<string> Errors(JsonSchema schema, JsonElement instance)
    {
        var results = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return [];
        }

        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({e.Key}): {e.Value}"))
            .ToList();
        return errors.Count > 0 ? errors : ["invalid (no details)"];
    }

    /// <summary>
    /// Asserts that <paramref name="response"/> is what the document says <paramref name="method"/>
    /// <paramref name="path"/> answers: its status and content type are declared, and its body fits the declared
    /// schema (each line of NDJSON; the JSON part of a binary inference answer; a text/plain body as a string).
    /// Returns the body (the JSON part for binary answers, an array of lines for NDJSON).
    /// </summary>
    public async Task<JsonElement> AssertConformsAsync(HttpResponseMessage response, string path, string method)
    {
        var status = (int)response.StatusCode;
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var schema = ResponseSchema(path, method, status, mediaType);
        var where = $"{method.ToUpperInvariant()} {path} {status} {mediaType}";
        switch (mediaType)
        {
            case "application/x-ndjson":
                var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.NotEmpty(lines);
                var items = new List<JsonElement>();
                foreach (var (line, index) in lines.Select((l, i) => (l, i)))
                {
                    var item = JsonDocument.Parse(line).RootElement.Clone();
                    AssertValid(schema, item, $"{where}, line {index + 1}");
                    items.Add(item);
                }

                return JsonSerializer.SerializeToElement(items);
            case "application/octet-stream":
                // The binary tensor extension: the JSON part fits the operation's JSON answer.
                var length = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), CultureInfo.InvariantCulture);
                var header = JsonDocument.Parse(bytes.AsMemory(0, length)).RootElement.Clone();
                AssertValid(ResponseSchema(path, method, status, "application/json"), header, $"{where}, JSON part");
                return header;
            case "text/plain":
                var text = JsonValue.Create(Encoding.UTF8.GetString(bytes));
                var element = JsonSerializer.SerializeToElement(text);
                AssertValid(schema, element, where);
                return element;
            case "text/csv":
                return JsonSerializer.SerializeToElement(Encoding.UTF8.GetString(bytes));
            default:
                Assert.True(mediaType.EndsWith("json", StringComparison.Ordinal), $"{where}: no rule to check this content type.");
                var body = JsonDocument.Parse(bytes).RootElement.Clone();
                AssertValid(schema, body, where);
                return body;
        }
    }

    public static void AssertValid(JsonSchema schema, JsonElement instance, string where)
    {
        var errors = Errors(schema, instance);
        Assert.True(errors.Count == 0, $"{where} does not fit the document's schema:\n  {string.Join("\n  ", errors)}\nbody: {Shorten(instance.GetRawText())}");
    }

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + "…";

    private static void MakeReferencesAbsolute(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue reference && reference.GetValue<string>() is { } target && target.StartsWith('#'))
                {
                    obj["$ref"] = DocumentUri + target;
                }

                foreach (var (_, child) in obj.ToList())
                {
                    MakeReferencesAbsolute(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    MakeReferencesAbsolute(child);
                }

                break;
        }
    }
}
