using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// YAML (Compose, Kubernetes, Prometheus, Grafana provisioning) as <see cref="JsonNode"/> trees, with the core
/// schema's typing of plain scalars (numbers, booleans, null); quoted scalars stay strings. Aliases are expanded.
/// </summary>
public static class Yaml
{
    public static JsonNode Load(string path) => LoadAll(path).Single();

    public static IReadOnlyList<JsonNode> LoadAll(string path)
    {
        using var reader = new StreamReader(path);
        return LoadAll(reader);
    }

    /// <summary>Every document of YAML text a tool printed (<paramref name="source"/> names it in errors).</summary>
    public static IReadOnlyList<JsonNode> LoadAllText(string text, string source)
    {
        using var reader = new StringReader(text);
        try
        {
            return LoadAll(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidOperationException($"{source} printed YAML that does not parse: {e.Message}", e);
        }
    }

    private static IReadOnlyList<JsonNode> LoadAll(TextReader reader)
    {
        var stream = new YamlStream();
        stream.Load(reader);
        return stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" })
            .Select(d => Convert(d.RootNode)!).ToList();
    }

    /// <summary>A scalar's text (numbers and booleans as written), or null.</summary>
    public static string? Text(this JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        JsonValue value => value.ToJsonString(),
        _ => throw new InvalidOperationException($"Expected a scalar, found {node.ToJsonString()}"),
    };

    public static JsonObject Obj(this JsonNode? node, string what) =>
        node as JsonObject ?? throw new InvalidOperationException($"{what} is not a mapping");

    public static IEnumerable<JsonNode> Items(this JsonNode? node) =>
        node is JsonArray array ? array.Select(n => n!) : [];

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c =>
            KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"Unsupported YAML node {node.NodeType}"),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(bool.Parse(text));
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        return JsonValue.Create(text);
    }
}
