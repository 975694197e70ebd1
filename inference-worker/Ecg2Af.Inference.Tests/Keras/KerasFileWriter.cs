using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ecg2Af.Inference.Onnx;
using PureHDF;

namespace Ecg2Af.Inference.Tests.Keras;

/// <summary>How the synthetic Keras file is laid out.</summary>
public enum SyntheticFormat
{
    /// <summary>Keras 2 <c>model.save("x.h5")</c>: <c>batch_input_shape</c>, list-style inbound nodes, <c>:0</c> weight names.</summary>
    Keras2H5,

    /// <summary>Keras 3 <c>model.save("x.keras")</c>: zip of metadata.json, config.json and model.weights.h5 by class position.</summary>
    Keras3Zip,
}

/// <summary>
/// Test-only writer of Keras model files, following keras' own savers (legacy_h5_format.save_model_to_hdf5 and
/// saving_lib.save_model, read as facts, not copied): it serialises a <see cref="Network"/> as the Keras layers it
/// describes. It shares no code with the importer, so an import round trip checks the importer against an independent
/// reading of the formats.
/// </summary>
internal static class KerasFileWriter
{
    /// <summary>
    /// Writes <paramref name="network"/> as a Functional model (or a Sequential one when <paramref name="sequential"/>);
    /// with <paramref name="nestHeads"/> every output Dense becomes a nested Functional <c>output_…</c> model of an
    /// InputLayer <c>input_multimodal_space</c> and that Dense, as ml4h's 2024 block factory builds its decoders.
    /// </summary>
    public static void Write(string path, Network network, SyntheticFormat format, bool nestHeads = false, bool sequential = false)
    {
        var keras3 = format == SyntheticFormat.Keras3Zip;
        var shapes = NetworkShapes.Infer(network);
        var model = sequential
            ? SequentialConfig(network, shapes, keras3)
            : FunctionalConfig(network, shapes, keras3, nestHeads);
        var json = model.ToJsonString();
        if (keras3)
        {
            WriteKerasZip(path, network, json, nestHeads, sequential);
        }
        else
        {
            WriteLegacyH5(path, network, json, sequential);
        }
    }

    private static JsonObject FunctionalConfig(Network network, IReadOnlyDictionary<string, TensorShape> shapes, bool keras3, bool nestHeads)
    {
        var input = network.Input;
        var layers = new JsonArray { InputLayer(input.Name, [input.Samples, input.Channels], keras3) };
        foreach (var layer in network.Layers)
        {
            var heads = network.Outputs.Select(o => o.Tensor).ToHashSet();
            if (nestHeads && layer is DenseLayer dense && heads.Contains(layer.Name))
            {
                layers.Add(NestedHead(dense, shapes[dense.Inputs[0]].Channels, keras3));
                continue;
            }

            layers.Add(LayerJson(layer, shapes[layer.Inputs[0]], keras3, withNodes: true));
        }

        return Model("Functional", "synthetic_model", keras3, new JsonObject
        {
            ["name"] = "synthetic_model",
            ["trainable"] = true,
            ["layers"] = layers,
            ["input_layers"] = new JsonArray { Ref(input.Name) },
            ["output_layers"] = new JsonArray(network.Outputs.Select(o => (JsonNode)Ref(o.Tensor)).ToArray()),
        });
    }

    private static JsonObject SequentialConfig(Network network, IReadOnlyDictionary<string, TensorShape> shapes, bool keras3)
    {
        var input = network.Input;
        var layers = new JsonArray();
        if (keras3)
        {
            // Keras 3 serialises a Sequential's input as a leading InputLayer.
            layers.Add(InputLayer(input.Name, [input.Samples, input.Channels], keras3: true));
        }

        foreach (var layer in network.Layers)
        {
            var json = LayerJson(layer, shapes[layer.Inputs[0]], keras3, withNodes: false);
            if (!keras3 && layers.Count == 0)
            {
                // Keras 2 puts the input shape on the first layer and names the implicit input "<layer>_input".
                json["config"]!["batch_input_shape"] = new JsonArray(null, input.Samples, input.Channels);
            }

            layers.Add(json);
        }

        return Model("Sequential", "sequential", keras3, new JsonObject { ["name"] = "sequential", ["layers"] = layers });
    }

    private static JsonObject Model(string className, string name, bool keras3, JsonObject config)
    {
        var model = new JsonObject { ["class_name"] = className, ["config"] = config };
        if (keras3)
        {
            model["module"] = className == "Functional" ? "keras.src.models.functional" : "keras";
            model["registered_name"] = className;
            model["name"] = name;
        }

        return model;
    }

    private static JsonObject InputLayer(string name, int?[] shape, bool keras3)
    {
        var dims = new JsonArray { null };
        foreach (var d in shape)
        {
            dims.Add(d);
        }

        var config = new JsonObject { ["name"] = name, ["dtype"] = "float32", ["sparse"] = false };
        config[keras3 ? "batch_shape" : "batch_input_shape"] = dims;
        return Layer("InputLayer", name, config, keras3, [], withNodes: true);
    }

    private static JsonObject NestedHead(DenseLayer dense, int width, bool keras3)
    {
        var inner = LayerJson(dense with { Inputs = ["input_multimodal_space"] }, new TensorShape(null, width), keras3, withNodes: true);
        var config = new JsonObject
        {
            ["name"] = dense.Name,
            ["trainable"] = true,
            ["layers"] = new JsonArray { InputLayer("input_multimodal_space", [width], keras3), inner },
            ["input_layers"] = new JsonArray { Ref("input_multimodal_space") },
            ["output_layers"] = new JsonArray { Ref(dense.Name) },
        };
        var layer = Layer("Functional", dense.Name, config, keras3, dense.Inputs, withNodes: true);
        layer["module"] = "keras.src.models.functional";
        layer["registered_name"] = "Functional";
        return layer;
    }

    private static JsonObject LayerJson(Layer layer, TensorShape input, bool keras3, bool withNodes)
    {
        var config = new JsonObject { ["name"] = layer.Name, ["trainable"] = true, ["dtype"] = Dtype(keras3) };
        string className;
        switch (layer)
        {
            case Conv1DLayer c:
                className = "Conv1D";
                config["filters"] = c.Filters;
                config["kernel_size"] = new JsonArray(c.KernelSize);
                config["strides"] = new JsonArray(c.Strides);
                config["padding"] = c.Padding.ToString().ToLowerInvariant();
                config["data_format"] = "channels_last";
                config["dilation_rate"] = new JsonArray(c.Dilation);
                config["activation"] = ActivationName(c.Activation);
                config["use_bias"] = c.Bias is not null;
                break;
            case DenseLayer d:
                className = "Dense";
                config["units"] = d.Units;
                config["activation"] = ActivationName(d.Activation);
                config["use_bias"] = d.Bias is not null;
                break;
            case ActivationLayer { Activation.Kind: ActivationKind.LeakyRelu } a:
                className = "LeakyReLU";
                config[keras3 ? "negative_slope" : "alpha"] = a.Activation.Alpha;
                break;
            case ActivationLayer { Activation.Kind: ActivationKind.Elu } a when a.Activation.Alpha != 1:
                className = "ELU";
                config["alpha"] = a.Activation.Alpha;
                break;
            case ActivationLayer a:
                className = "Activation";
                config["activation"] = ActivationName(a.Activation);
                break;
            case AddLayer:
                className = "Add";
                break;
            case ConcatenateLayer cat:
                className = "Concatenate";
                config["axis"] = cat.Axis == ConcatAxis.Channels ? -1 : 1;
                break;
            case Pool1DLayer p:
                className = p.Kind == PoolKind.Max ? "MaxPooling1D" : "AveragePooling1D";
                config["pool_size"] = new JsonArray(p.PoolSize);
                config["strides"] = new JsonArray(p.Strides);
                config["padding"] = p.Padding.ToString().ToLowerInvariant();
                config["data_format"] = "channels_last";
                break;
            case GlobalPool1DLayer g:
                className = g.Kind == PoolKind.Max ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D";
                config["data_format"] = "channels_last";
                break;
            case FlattenLayer:
                className = "Flatten";
                config["data_format"] = "channels_last";
                break;
            case BatchNormLayer bn:
                className = "BatchNormalization";
                config["axis"] = keras3 ? -1 : new JsonArray(input.IsSequence ? 2 : 1);
                config["momentum"] = 0.99;
                config["epsilon"] = bn.Epsilon;
                config["center"] = true;
                config["scale"] = true;
                break;
            case LayerNormLayer ln:
                className = "LayerNormalization";
                config["axis"] = new JsonArray(input.IsSequence ? 2 : 1);
                config["epsilon"] = ln.Epsilon;
                config["center"] = true;
                config["scale"] = true;
                break;
            case IdentityLayer:
                className = "Dropout";
                config["rate"] = 0.25;
                break;
            default:
                throw new NotSupportedException(layer.GetType().Name);
        }

        return Layer(className, layer.Name, config, keras3, layer.Inputs, withNodes);
    }

    private static JsonObject Layer(string className, string name, JsonObject config, bool keras3, IReadOnlyList<string> inputs, bool withNodes)
    {
        var layer = new JsonObject { ["class_name"] = className, ["config"] = config };
        if (keras3)
        {
            layer["module"] = "keras.layers";
            layer["registered_name"] = null;
        }

        if (!withNodes)
        {
            return layer;
        }

        layer["name"] = name;
        if (inputs.Count == 0)
        {
            layer["inbound_nodes"] = new JsonArray();
        }
        else if (keras3)
        {
            // {"args": [tensor] } for one input, {"args": [[tensor, tensor]]} for merge layers.
            var tensors = inputs.Select(i => (JsonNode)KerasTensor(i)).ToArray();
            JsonNode args = inputs.Count == 1 ? tensors[0] : new JsonArray(tensors);
            layer["inbound_nodes"] = new JsonArray(new JsonObject { ["args"] = new JsonArray(args), ["kwargs"] = new JsonObject() });
        }
        else
        {
            var node = new JsonArray(inputs.Select(i => (JsonNode)new JsonArray(i, 0, 0, new JsonObject())).ToArray());
            layer["inbound_nodes"] = new JsonArray(node);
        }

        return layer;
    }

    private static JsonObject KerasTensor(string source) => new()
    {
        ["class_name"] = "__keras_tensor__",
        ["config"] = new JsonObject { ["shape"] = new JsonArray(), ["dtype"] = "float32", ["keras_history"] = Ref(source) },
    };

    private static JsonArray Ref(string layer) => new(layer, 0, 0);

    private static JsonNode Dtype(bool keras3) => keras3
        ? new JsonObject
        {
            ["module"] = "keras", ["class_name"] = "DTypePolicy", ["config"] = new JsonObject { ["name"] = "float32" }, ["registered_name"] = null,
        }
        : "float32";

    private static string ActivationName(Activation activation) => activation.Kind switch
    {
        ActivationKind.GeluTanh => "Addons>gelu",
        ActivationKind.Lisht => "Addons>lisht",
        ActivationKind.Swish => "swish",
        ActivationKind.GeluErf => "gelu",
        ActivationKind.Elu when activation.Alpha == 1 => "elu",
        ActivationKind.LeakyRelu or ActivationKind.Elu => throw new NotSupportedException("use a LeakyReLU/ELU layer"),
        var kind => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>A layer's variables in Keras order, in Keras layout.</summary>
    private static List<(string Name, float[] Data, ulong[] Shape)> Variables(Layer layer, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        var input = shapes[layer.Inputs[0]];
        var vars = new List<(string, float[], ulong[])>();
        switch (layer)
        {
            case Conv1DLayer c:
                vars.Add(("kernel", c.Kernel, [(ulong)c.KernelSize, (ulong)input.Channels, (ulong)c.Filters]));
                if (c.Bias is not null)
                {
                    vars.Add(("bias", c.Bias, [(ulong)c.Filters]));
                }

                break;
            case DenseLayer d:
                vars.Add(("kernel", d.Kernel, [(ulong)input.Channels, (ulong)d.Units]));
                if (d.Bias is not null)
                {
                    vars.Add(("bias", d.Bias, [(ulong)d.Units]));
                }

                break;
            case BatchNormLayer bn:
                vars.AddRange([("gamma", bn.Gamma, [(ulong)bn.Gamma.Length]), ("beta", bn.Beta, [(ulong)bn.Beta.Length]),
                    ("moving_mean", bn.MovingMean, [(ulong)bn.MovingMean.Length]), ("moving_variance", bn.MovingVariance, [(ulong)bn.MovingVariance.Length])]);
                break;
            case LayerNormLayer ln:
                vars.AddRange([("gamma", ln.Gamma, [(ulong)ln.Gamma.Length]), ("beta", ln.Beta, [(ulong)ln.Beta.Length])]);
                break;
            default:
                break;
        }

        return vars;
    }

    /// <summary>
    /// Legacy HDF5: root attributes keras_version/backend/model_config; <c>/model_weights</c> with <c>layer_names</c>;
    /// per layer a group with <c>weight_names</c> (<c>&lt;layer&gt;/kernel:0</c> …; an empty float64 array when none) and
    /// the datasets at those paths.
    /// </summary>
    private static void WriteLegacyH5(string path, Network network, string modelConfig, bool sequential)
    {
        var shapes = NetworkShapes.Infer(network);
        var weights = new H5Group();
        var layerNames = new List<string>();
        if (!sequential)
        {
            layerNames.Add(network.Input.Name);
            weights[network.Input.Name] = EmptyLayerGroup();
        }

        foreach (var layer in network.Layers)
        {
            layerNames.Add(layer.Name);
            var vars = Variables(layer, shapes);
            if (vars.Count == 0)
            {
                weights[layer.Name] = EmptyLayerGroup();
                continue;
            }

            var inner = new H5Group();
            foreach (var (name, data, shape) in vars)
            {
                inner[name + ":0"] = new H5Dataset(data, fileDims: shape);
            }

            weights[layer.Name] = new H5Group
            {
                [layer.Name] = inner,
                Attributes = new() { ["weight_names"] = vars.Select(v => $"{layer.Name}/{v.Name}:0").ToArray() },
            };
        }

        weights.Attributes = new()
        {
            ["layer_names"] = layerNames.ToArray(),
            ["backend"] = "tensorflow",
            ["keras_version"] = "2.4.0",
        };
        var file = new H5File
        {
            ["model_weights"] = weights,
            Attributes = new()
            {
                ["backend"] = "tensorflow",
                ["keras_version"] = "2.4.0",
                ["model_config"] = modelConfig,
            },
        };
        file.Write(path);
    }

    private static H5Group EmptyLayerGroup() => new() { Attributes = new() { ["weight_names"] = Array.Empty<double>() } };

    /// <summary>
    /// Keras 3 zip: <c>model.weights.h5</c> has a <c>vars</c> group for the model itself and
    /// <c>layers/&lt;snake_case(class)&gt;[_k]/vars/&lt;i&gt;</c> for each layer of its <c>layers</c> list (a Functional's list
    /// includes InputLayers, a Sequential's does not), recursing into nested models.
    /// </summary>
    private static void WriteKerasZip(string path, Network network, string config, bool nestHeads, bool sequential)
    {
        var shapes = NetworkShapes.Infer(network);
        var root = new H5Group { ["vars"] = new H5Group() };
        var layersGroup = new H5Group();
        root["layers"] = layersGroup;
        var counters = new Dictionary<string, int>();
        string Next(Dictionary<string, int> counter, string snake)
        {
            var k = counter.GetValueOrDefault(snake, -1) + 1;
            counter[snake] = k;
            return k == 0 ? snake : $"{snake}_{k}";
        }

        H5Group VarsGroup(IEnumerable<(string Name, float[] Data, ulong[] Shape)> vars)
        {
            var group = new H5Group();
            var i = 0;
            foreach (var (_, data, shape) in vars)
            {
                group[(i++).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new H5Dataset(data, fileDims: shape);
            }

            return new H5Group { ["vars"] = group };
        }

        if (!sequential)
        {
            layersGroup[Next(counters, "input_layer")] = VarsGroup([]);
        }

        var heads = network.Outputs.Select(o => o.Tensor).ToHashSet();
        foreach (var layer in network.Layers)
        {
            if (nestHeads && layer is DenseLayer && heads.Contains(layer.Name))
            {
                var nested = new H5Group { ["vars"] = new H5Group() };
                nested["layers"] = new H5Group
                {
                    ["input_layer"] = VarsGroup([]),
                    ["dense"] = VarsGroup(Variables(layer, shapes)),
                };
                layersGroup[Next(counters, "functional")] = nested;
                continue;
            }

            layersGroup[Next(counters, SnakeClass(layer))] = VarsGroup(Variables(layer, shapes));
        }

        var weights = new MemoryStream();
        new H5File { ["vars"] = root["vars"], ["layers"] = layersGroup }.Write(weights);
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        void Entry(string name, byte[] bytes)
        {
            using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            stream.Write(bytes);
        }

        Entry("metadata.json", JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["keras_version"] = "3.8.0",
            ["date_saved"] = "2026-11-27@00:00:00",
        }));
        Entry("config.json", System.Text.Encoding.UTF8.GetBytes(config));
        Entry("model.weights.h5", weights.ToArray());
    }

    /// <summary>snake_case of the Keras class each layer is written as (see <see cref="LayerJson"/>).</summary>
    private static string SnakeClass(Layer layer) => layer switch
    {
        Conv1DLayer => "conv1d",
        DenseLayer => "dense",
        ActivationLayer { Activation.Kind: ActivationKind.LeakyRelu } => "leaky_re_lu",
        ActivationLayer { Activation.Kind: ActivationKind.Elu } a when a.Activation.Alpha != 1 => "elu",
        ActivationLayer => "activation",
        AddLayer => "add",
        ConcatenateLayer => "concatenate",
        Pool1DLayer { Kind: PoolKind.Max } => "max_pooling1d",
        Pool1DLayer => "average_pooling1d",
        GlobalPool1DLayer { Kind: PoolKind.Max } => "global_max_pooling1d",
        GlobalPool1DLayer => "global_average_pooling1d",
        FlattenLayer => "flatten",
        BatchNormLayer => "batch_normalization",
        LayerNormLayer => "layer_normalization",
        IdentityLayer => "dropout",
        _ => throw new NotSupportedException(layer.GetType().Name),
    };
}
