using System.Globalization;
using System.Text.Json;

namespace Ecg2Af.Inference.Keras;

/// <summary>A reference to a layer's output: Keras' (layer name, node index, tensor index).</summary>
internal readonly record struct TensorRef(string Layer, int Node, int Tensor)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Layer}[{Node}][{Tensor}]");
}

/// <summary>Reading Keras 2 and Keras 3 model-config JSON, which differ in how nodes, shapes and dtypes are written.</summary>
internal static class KerasJson
{
    public static string ClassName(JsonElement layer) => layer.GetProperty("class_name").GetString()
        ?? throw new KerasImportException("A layer has no class_name.");

    public static JsonElement Config(JsonElement layer) =>
        layer.TryGetProperty("config", out var config) ? config : throw new KerasImportException($"Layer of class {ClassName(layer)} has no config.");

    /// <summary>The layer's name: top-level <c>name</c> (Keras 2 functional, Keras 3) or <c>config.name</c>.</summary>
    public static string LayerName(JsonElement layer)
    {
        if (layer.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            return name.GetString()!;
        }

        return Config(layer).TryGetProperty("name", out name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()!
            : throw new KerasImportException($"A layer of class {ClassName(layer)} has no name.");
    }

    /// <summary>
    /// <c>input_layers</c> / <c>output_layers</c>: a list of <c>[name, node, tensor]</c>, or a single such triple
    /// (Keras 3 writes a flat triple for single-input models).
    /// </summary>
    public static IReadOnlyList<TensorRef> Refs(JsonElement config, string property)
    {
        if (!config.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw new KerasImportException($"The model config has no {property} list.");
        }

        if (value.GetArrayLength() > 0 && value[0].ValueKind == JsonValueKind.String)
        {
            return [Ref(value)];
        }

        return value.EnumerateArray().Select(Ref).ToList();
    }

    /// <summary>The tensors one inbound node reads, in order.</summary>
    public static IReadOnlyList<TensorRef> NodeInputs(JsonElement node)
    {
        var refs = new List<TensorRef>();
        if (node.ValueKind == JsonValueKind.Array)
        {
            // Keras 2: [[layer, node, tensor, kwargs], …]
            refs.AddRange(node.EnumerateArray().Select(Ref));
        }
        else if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty("args", out var args))
        {
            // Keras 3: {"args": [keras_tensor | [keras_tensor, …]], "kwargs": {…}}
            CollectKerasTensors(args, refs);
        }
        else
        {
            throw new KerasImportException($"Unrecognised inbound node: {node.GetRawText()}");
        }

        return refs;
    }

    /// <summary>The per-sample input shape (without the batch axis) from an InputLayer or a Sequential's first layer.</summary>
    public static IReadOnlyList<int?>? BatchShape(JsonElement config)
    {
        foreach (var key in new[] { "batch_shape", "batch_input_shape" })
        {
            if (config.TryGetProperty(key, out var shape) && Shape(shape) is { } dims)
            {
                return dims;
            }
        }

        return null;
    }

    /// <summary>A shape list including the batch axis (<c>[null, 5000, 12]</c>) without its batch axis; null if not a list.</summary>
    public static IReadOnlyList<int?>? Shape(JsonElement shape) => shape.ValueKind == JsonValueKind.Array
        ? shape.EnumerateArray().Skip(1).Select(d => d.ValueKind == JsonValueKind.Number ? d.GetInt32() : (int?)null).ToList()
        : null;

    public static int Int(JsonElement config, string name, int? fallback = null)
    {
        if (config.TryGetProperty(name, out var value))
        {
            if (value.ValueKind == JsonValueKind.Number)
            {
                return value.GetInt32();
            }

            // Conv1D and pooling write one-element tuples: "kernel_size": [11].
            if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && value[0].ValueKind == JsonValueKind.Number)
            {
                return value[0].GetInt32();
            }

            if (value.ValueKind == JsonValueKind.Null && fallback is { } nullFallback)
            {
                return nullFallback;
            }
        }
        else if (fallback is { } f)
        {
            return f;
        }

        throw new KerasImportException($"Expected an integer '{name}' in {Describe(config)}.");
    }

    public static double Double(JsonElement config, string name, double fallback) =>
        config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : fallback;

    public static bool Bool(JsonElement config, string name, bool fallback) =>
        config.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    public static string? String(JsonElement config, string name) =>
        config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An axis written as an int or a one-element list; null when absent.</summary>
    public static int? Axis(JsonElement config, string name = "axis")
    {
        if (!config.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetInt32(),
            JsonValueKind.Array when value.GetArrayLength() == 1 => value[0].GetInt32(),
            _ => throw new KerasImportException($"Unsupported {name} {value.GetRawText()} in {Describe(config)}: one axis expected."),
        };
    }

    /// <summary>
    /// An activation as written in a layer config: a name (<c>"relu"</c>, <c>"Addons&gt;gelu"</c>), or a Keras 3
    /// serialised object whose <c>config</c> or <c>registered_name</c> holds the name.
    /// </summary>
    public static string ActivationName(JsonElement config, string name = "activation")
    {
        if (!config.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return "linear";
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            if (value.TryGetProperty("config", out var inner) && inner.ValueKind == JsonValueKind.String)
            {
                return inner.GetString()!;
            }

            if (String(value, "registered_name") is { } registered)
            {
                return registered;
            }

            if (String(value, "class_name") is { } className)
            {
                return className;
            }
        }

        throw new KerasImportException($"Unrecognised activation {value.GetRawText()}.");
    }

    private static string Describe(JsonElement config) => String(config, "name") is { } n ? $"layer '{n}'" : "a layer config";

    private static TensorRef Ref(JsonElement triple)
    {
        if (triple.ValueKind != JsonValueKind.Array || triple.GetArrayLength() < 3 || triple[0].ValueKind != JsonValueKind.String)
        {
            throw new KerasImportException($"Expected [layer, node, tensor], got {triple.GetRawText()}.");
        }

        return new TensorRef(triple[0].GetString()!, triple[1].GetInt32(), triple[2].GetInt32());
    }

    private static void CollectKerasTensors(JsonElement value, List<TensorRef> refs)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    CollectKerasTensors(item, refs);
                }

                break;
            case JsonValueKind.Object when String(value, "class_name") == "__keras_tensor__":
                refs.Add(Ref(value.GetProperty("config").GetProperty("keras_history")));
                break;
            default:
                break;
        }
    }
}
