using System.Globalization;
using System.Text.Json;
using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.Keras;

/// <summary>
/// Turns a Keras model config plus its weights into a <see cref="Network"/>: Functional and Sequential models, nested
/// models inlined (their InputLayers bound to the caller's tensors), one <see cref="Layer"/> per Keras layer call.
/// An unsupported layer or option stops the import with a message naming the layer.
/// </summary>
internal sealed class KerasGraphConverter
{
    private readonly IKerasWeights _weights;
    private readonly int? _samples;
    private readonly List<Layer> _layers = [];
    private readonly Dictionary<string, TensorShape> _shapes = new(StringComparer.Ordinal);
    private NetworkInput? _input;

    private KerasGraphConverter(IKerasWeights weights, int? samples)
    {
        _weights = weights;
        _samples = samples;
    }

    /// <summary>
    /// Converts the model whose <c>{"class_name", "config"}</c> object is <paramref name="model"/>.
    /// <paramref name="samples"/> fixes the input length when the model leaves it open (and must agree when it does not).
    /// </summary>
    public static Network Convert(JsonElement model, IKerasWeights weights, int? samples)
    {
        var converter = new KerasGraphConverter(weights, samples);
        var outputs = converter.ConvertModel(KerasJson.ClassName(model), "model", KerasJson.Config(model), Scope.Top, inputs: null);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in outputs)
        {
            if (!names.Add(name))
            {
                throw new KerasImportException($"Two model outputs come from layer '{name}'; output names must be unique.");
            }
        }

        return new Network
        {
            Input = converter._input ?? throw new KerasImportException("The model has no input layer."),
            Layers = converter._layers,
            Outputs = outputs.Select(o => new NetworkOutput(o.Name, o.Tensor)).ToList(),
        };
    }

    /// <summary>Where the layers of one (possibly nested) model live.</summary>
    private sealed record Scope(IReadOnlyList<string> Models, string KerasPath, string Prefix)
    {
        public static Scope Top { get; } = new([], "", "");

        public string ChildPath(string segment) => KerasPath.Length == 0 ? $"layers/{segment}" : $"{KerasPath}/layers/{segment}";
    }

    /// <summary>Converts one model; returns its outputs as (Keras output layer name, tensor).</summary>
    private List<(string Name, string Tensor)> ConvertModel(string className, string name, JsonElement config, Scope scope, IReadOnlyList<string>? inputs)
    {
        var layers = config.TryGetProperty("layers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToList()
            : throw new KerasImportException($"Model '{name}' ({className}) has no layers list.");
        return className switch
        {
            "Functional" or "Model" => ConvertFunctional(name, config, layers, scope, inputs),
            "Sequential" => ConvertSequential(name, config, layers, scope, inputs),
            _ => throw new KerasImportException($"Unsupported model class '{className}' for '{name}': Functional or Sequential expected."),
        };
    }

    private List<(string Name, string Tensor)> ConvertFunctional(
        string modelName, JsonElement config, List<JsonElement> layers, Scope scope, IReadOnlyList<string>? inputs)
    {
        var paths = ClassPaths(layers, scope, skipLeadingInput: false);
        var byName = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            byName[KerasJson.LayerName(layer)] = layer;
        }

        var tensors = new Dictionary<TensorRef, string>();
        var inputRefs = KerasJson.Refs(config, "input_layers");
        if (inputs is not null && inputs.Count != inputRefs.Count)
        {
            throw new KerasImportException($"Nested model '{modelName}' takes {inputRefs.Count} inputs but is called with {inputs.Count}.");
        }

        for (var i = 0; i < inputRefs.Count; i++)
        {
            var inputLayer = byName.TryGetValue(inputRefs[i].Layer, out var l) && KerasJson.ClassName(l) == "InputLayer"
                ? l
                : throw new KerasImportException($"Input '{inputRefs[i].Layer}' of model '{modelName}' is not an InputLayer.");
            tensors[inputRefs[i]] = inputs?[i] ?? DefineInput(inputRefs[i].Layer, KerasJson.BatchShape(KerasJson.Config(inputLayer)), inputRefs.Count);
        }

        // Emit every (layer, node) call once all the tensors it reads exist; Keras lists layers in dependency order,
        // but shared layers (one layer, several nodes) make a worklist the simpler correct choice.
        var pending = new List<(JsonElement Layer, int Node, IReadOnlyList<TensorRef> Inputs)>();
        foreach (var layer in layers.Where(l => KerasJson.ClassName(l) != "InputLayer"))
        {
            if (layer.TryGetProperty("inbound_nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var node in nodes.EnumerateArray())
                {
                    pending.Add((layer, index++, KerasJson.NodeInputs(node)));
                }
            }
        }

        while (pending.Count > 0)
        {
            var ready = pending.Where(p => p.Inputs.All(tensors.ContainsKey)).ToList();
            if (ready.Count == 0)
            {
                var missing = pending.SelectMany(p => p.Inputs).First(r => !tensors.ContainsKey(r));
                throw new KerasImportException($"Model '{modelName}': layer '{KerasJson.LayerName(pending[0].Layer)}' reads {missing}, which no layer produces.");
            }

            foreach (var call in ready)
            {
                var layerName = KerasJson.LayerName(call.Layer);
                var outputs = ConvertCall(call.Layer, call.Node, call.Inputs.Select(r => tensors[r]).ToList(), scope, paths[layerName]);
                for (var t = 0; t < outputs.Count; t++)
                {
                    tensors[new TensorRef(layerName, call.Node, t)] = outputs[t];
                }

                pending.Remove(call);
            }
        }

        return KerasJson.Refs(config, "output_layers")
            .Select(r => (r.Layer, tensors.TryGetValue(r, out var t) ? t : throw new KerasImportException($"Output {r} of model '{modelName}' is never computed.")))
            .ToList();
    }

    private List<(string Name, string Tensor)> ConvertSequential(
        string modelName, JsonElement config, List<JsonElement> layers, Scope scope, IReadOnlyList<string>? inputs)
    {
        if (layers.Count == 0)
        {
            throw new KerasImportException($"Sequential model '{modelName}' has no layers.");
        }

        var hasInputLayer = KerasJson.ClassName(layers[0]) == "InputLayer";
        var paths = ClassPaths(layers, scope, skipLeadingInput: true);
        string x;
        if (inputs is not null)
        {
            x = inputs.Count == 1 ? inputs[0] : throw new KerasImportException($"Sequential model '{modelName}' is called with {inputs.Count} inputs.");
        }
        else
        {
            // Keras 2 puts batch_input_shape on the first layer; Keras 3 uses an InputLayer or build_input_shape.
            var shape = KerasJson.BatchShape(KerasJson.Config(layers[0]))
                ?? (config.TryGetProperty("build_input_shape", out var built) ? KerasJson.Shape(built) : null);
            // Keras names the implicit input of a Sequential without an InputLayer "<first layer>_input".
            var inputName = hasInputLayer ? KerasJson.LayerName(layers[0]) : KerasJson.LayerName(layers[0]) + "_input";
            x = DefineInput(inputName, shape, 1);
        }

        foreach (var layer in layers.Skip(hasInputLayer ? 1 : 0))
        {
            var outputs = ConvertCall(layer, 0, [x], scope, paths[KerasJson.LayerName(layer)]);
            x = outputs.Count == 1 ? outputs[0] : throw new KerasImportException($"Layer '{KerasJson.LayerName(layer)}' in Sequential '{modelName}' has several outputs.");
        }

        return [(KerasJson.LayerName(layers[^1]), x)];
    }

    /// <summary>
    /// The <c>.keras</c> weight path of each layer: <c>layers/&lt;snake_case(class)&gt;[_k]</c>, counted per class in the
    /// order of the model's layer list. A Functional's list includes its InputLayers; a Sequential's omits its leading one.
    /// </summary>
    private static Dictionary<string, string> ClassPaths(List<JsonElement> layers, Scope scope, bool skipLeadingInput)
    {
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < layers.Count; i++)
        {
            var className = KerasJson.ClassName(layers[i]);
            if (skipLeadingInput && i == 0 && className == "InputLayer")
            {
                continue;
            }

            var snake = KerasNaming.ToSnakeCase(className == "Model" ? "Functional" : className);
            var k = counters.GetValueOrDefault(snake, -1) + 1;
            counters[snake] = k;
            paths[KerasJson.LayerName(layers[i])] = scope.ChildPath(k == 0 ? snake : string.Create(CultureInfo.InvariantCulture, $"{snake}_{k}"));
        }

        return paths;
    }

    private string DefineInput(string name, IReadOnlyList<int?>? shape, int inputCount)
    {
        if (_input is not null || inputCount != 1)
        {
            throw new KerasImportException("Only models with a single input are supported.");
        }

        if (shape is null || shape.Count != 2 || shape[1] is null)
        {
            throw new KerasImportException(
                $"Input '{name}' has shape {Describe(shape)}; (samples, channels) with known channels is expected for a 1-D ECG model.");
        }

        var samples = shape[0];
        if (samples is not null && _samples is not null && samples != _samples)
        {
            throw new KerasImportException($"The model's input '{name}' has {samples} samples; {_samples} were requested.");
        }

        samples ??= _samples ?? throw new KerasImportException($"Input '{name}' has an open length; give the number of samples.");
        _input = new NetworkInput(name, samples.Value, shape[1]!.Value);
        _shapes[name] = new TensorShape(samples, shape[1]!.Value);
        return name;
    }

    private static string Describe(IReadOnlyList<int?>? shape) =>
        shape is null ? "unknown" : "(None, " + string.Join(", ", shape.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "None")) + ")";

    /// <summary>Converts one call of a layer (node <paramref name="node"/>); returns its output tensors.</summary>
    private IReadOnlyList<string> ConvertCall(JsonElement layer, int node, IReadOnlyList<string> inputs, Scope scope, string kerasPath)
    {
        var className = KerasJson.ClassName(layer);
        var layerName = KerasJson.LayerName(layer);
        var config = KerasJson.Config(layer);
        var tensorName = Unique(scope.Prefix + layerName + (node > 0 ? string.Create(CultureInfo.InvariantCulture, $"#{node}") : ""));
        if (className is "Functional" or "Model" or "Sequential")
        {
            var nested = new Scope([.. scope.Models, layerName], kerasPath, tensorName + "/");
            return ConvertModel(className, layerName, config, nested, inputs).Select(o => o.Tensor).ToList();
        }

        var location = new LayerLocation(scope.Models, layerName, kerasPath);
        var shape = _shapes[inputs[0]];
        var built = BuildLayer(className, layerName, tensorName, config, inputs, shape, location);
        _shapes[built.Name] = NetworkShapes.LayerOutput(built, inputs.Select(i => _shapes[i]).ToArray());
        _layers.Add(built);
        return [built.Name];
    }

    private Layer BuildLayer(string className, string layerName, string name, JsonElement config, IReadOnlyList<string> inputs, TensorShape shape, LayerLocation location)
    {
        string Where() => $"layer '{location}' ({className})";
        void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new KerasImportException($"Unsupported {Where()}: {message}.");
            }
        }

        if (KerasJson.String(config, "data_format") is { } format)
        {
            Require(format == "channels_last", $"data_format {format}");
        }

        switch (className)
        {
            case "Conv1D":
                {
                    Require(shape.IsSequence, $"input {shape} is not a sequence");
                    Require(KerasJson.Int(config, "groups", 1) == 1, "grouped convolution");
                    var filters = KerasJson.Int(config, "filters");
                    var kernelSize = KerasJson.Int(config, "kernel_size");
                    var useBias = KerasJson.Bool(config, "use_bias", true);
                    var vars = Variables(location, Where(), useBias ? ["kernel", "bias"] : ["kernel"]);
                    ExpectShape(vars[0], Where(), kernelSize, shape.Channels, filters);
                    return new Conv1DLayer
                    {
                        Name = name,
                        Inputs = inputs,
                        Filters = filters,
                        KernelSize = kernelSize,
                        Strides = KerasJson.Int(config, "strides", 1),
                        Dilation = KerasJson.Int(config, "dilation_rate", 1),
                        Padding = ParsePadding(KerasJson.String(config, "padding") ?? "valid", Where(), allowCausal: true),
                        Kernel = vars[0].Data,
                        Bias = useBias ? ExpectShape(vars[1], Where(), filters).Data : null,
                        Activation = ParseActivation(KerasJson.ActivationName(config), Where()),
                    };
                }

            case "Dense":
                {
                    var units = KerasJson.Int(config, "units");
                    var useBias = KerasJson.Bool(config, "use_bias", true);
                    var vars = Variables(location, Where(), useBias ? ["kernel", "bias"] : ["kernel"]);
                    ExpectShape(vars[0], Where(), shape.Channels, units);
                    return new DenseLayer
                    {
                        Name = name,
                        Inputs = inputs,
                        Units = units,
                        Kernel = vars[0].Data,
                        Bias = useBias ? ExpectShape(vars[1], Where(), units).Data : null,
                        Activation = ParseActivation(KerasJson.ActivationName(config), Where()),
                    };
                }

            case "Activation":
                return new ActivationLayer { Name = name, Inputs = inputs, Activation = ParseActivation(KerasJson.ActivationName(config), Where()) };

            case "LeakyReLU":
                {
                    // Keras 2 calls the slope "alpha", Keras 3 "negative_slope"; both default to 0.3.
                    var slope = KerasJson.Double(config, "negative_slope", KerasJson.Double(config, "alpha", 0.3));
                    return new ActivationLayer { Name = name, Inputs = inputs, Activation = new Activation(ActivationKind.LeakyRelu, slope) };
                }

            case "ReLU":
                {
                    Require(!config.TryGetProperty("max_value", out var max) || max.ValueKind == JsonValueKind.Null, "max_value is set");
                    Require(KerasJson.Double(config, "threshold", 0) == 0, "threshold is set");
                    var slope = KerasJson.Double(config, "negative_slope", 0);
                    return new ActivationLayer
                    {
                        Name = name, Inputs = inputs,
                        Activation = slope == 0 ? new Activation(ActivationKind.Relu) : new Activation(ActivationKind.LeakyRelu, slope),
                    };
                }

            case "ELU":
                return new ActivationLayer { Name = name, Inputs = inputs, Activation = new Activation(ActivationKind.Elu, KerasJson.Double(config, "alpha", 1)) };

            case "Softmax":
                Require(KerasJson.Axis(config) is null or -1 || KerasJson.Axis(config) == (shape.IsSequence ? 2 : 1), "softmax over a non-channel axis");
                return new ActivationLayer { Name = name, Inputs = inputs, Activation = new Activation(ActivationKind.Softmax) };

            case "Add":
                return new AddLayer { Name = name, Inputs = inputs };

            case "Concatenate":
                {
                    var axis = KerasJson.Axis(config) ?? -1;
                    var rank = shape.IsSequence ? 3 : 2;
                    axis = axis < 0 ? axis + rank : axis;
                    Require(axis >= 1 && axis < rank, $"axis {axis}");
                    return new ConcatenateLayer { Name = name, Inputs = inputs, Axis = axis == rank - 1 ? ConcatAxis.Channels : ConcatAxis.Time };
                }

            case "MaxPooling1D" or "MaxPool1D" or "AveragePooling1D" or "AvgPool1D":
                {
                    var size = KerasJson.Int(config, "pool_size", 2);
                    return new Pool1DLayer
                    {
                        Name = name,
                        Inputs = inputs,
                        Kind = className.StartsWith("Max", StringComparison.Ordinal) ? PoolKind.Max : PoolKind.Average,
                        PoolSize = size,
                        Strides = KerasJson.Int(config, "strides", size),
                        Padding = ParsePadding(KerasJson.String(config, "padding") ?? "valid", Where(), allowCausal: false),
                    };
                }

            case "GlobalMaxPooling1D" or "GlobalMaxPool1D" or "GlobalAveragePooling1D" or "GlobalAvgPool1D":
                Require(!KerasJson.Bool(config, "keepdims", false), "keepdims=True");
                return new GlobalPool1DLayer { Name = name, Inputs = inputs, Kind = className.Contains("Max", StringComparison.Ordinal) ? PoolKind.Max : PoolKind.Average };

            case "Flatten":
                return new FlattenLayer { Name = name, Inputs = inputs };

            case "Dropout" or "SpatialDropout1D" or "GaussianDropout" or "GaussianNoise" or "AlphaDropout" or "ActivityRegularization":
                return new IdentityLayer { Name = name, Inputs = inputs };

            case "BatchNormalization":
                {
                    RequireChannelAxis(config, shape, Where());
                    var (scale, center, roles) = AffineRoles(config);
                    var vars = Variables(location, Where(), [.. roles, "moving_mean", "moving_variance"]);
                    var c = shape.Channels;
                    var i = 0;
                    return new BatchNormLayer
                    {
                        Name = name,
                        Inputs = inputs,
                        Gamma = scale ? ExpectShape(vars[i++], Where(), c).Data : Filled(c, 1),
                        Beta = center ? ExpectShape(vars[i++], Where(), c).Data : Filled(c, 0),
                        MovingMean = ExpectShape(vars[i++], Where(), c).Data,
                        MovingVariance = ExpectShape(vars[i], Where(), c).Data,
                        Epsilon = KerasJson.Double(config, "epsilon", 1e-3),
                    };
                }

            case "LayerNormalization":
                {
                    RequireChannelAxis(config, shape, Where());
                    Require(!KerasJson.Bool(config, "rms_scaling", false), "rms_scaling=True");
                    var (scale, center, roles) = AffineRoles(config);
                    var vars = Variables(location, Where(), roles);
                    var c = shape.Channels;
                    return new LayerNormLayer
                    {
                        Name = name,
                        Inputs = inputs,
                        Gamma = scale ? ExpectShape(vars[0], Where(), c).Data : Filled(c, 1),
                        Beta = center ? ExpectShape(vars[scale ? 1 : 0], Where(), c).Data : Filled(c, 0),
                        Epsilon = KerasJson.Double(config, "epsilon", 1e-3),
                    };
                }

            default:
                throw new KerasImportException(
                    $"Unsupported Keras layer '{layerName}' of class {className}. Supported: InputLayer, Conv1D, Dense, Activation, " +
                    "LeakyReLU, ReLU, ELU, Softmax, Add, Concatenate, Max/AveragePooling1D, GlobalMax/AveragePooling1D, Flatten, " +
                    "Dropout, SpatialDropout1D, BatchNormalization, LayerNormalization, nested Functional/Sequential.");
        }
    }

    /// <summary>The layer's variables in <paramref name="roles"/> order, matched by name when the file names them.</summary>
    private WeightTensor[] Variables(LayerLocation location, string where, string[] roles)
    {
        var vars = _weights.Read(location);
        if (vars.Count != roles.Length)
        {
            throw new KerasImportException(
                $"{where}: the file holds {vars.Count} weight arrays for it; {roles.Length} expected ({string.Join(", ", roles)}).");
        }

        var byRole = vars.Where(v => v.Name is not null)
            .GroupBy(v => Role(v.Name!), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return roles.All(byRole.ContainsKey) ? roles.Select(r => byRole[r]).ToArray() : [.. vars];
    }

    /// <summary><c>batch_normalization/gamma:0</c> → <c>gamma</c>.</summary>
    private static string Role(string name)
    {
        var last = name[(name.LastIndexOf('/') + 1)..];
        var colon = last.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? last[..colon] : last;
    }

    private static WeightTensor ExpectShape(WeightTensor tensor, string where, params long[] shape)
    {
        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw new KerasImportException(
                $"{where}: weight '{tensor.Name}' has shape ({string.Join(", ", tensor.Shape)}); ({string.Join(", ", shape)}) expected.");
        }

        return tensor;
    }

    /// <summary>
    /// A normalization layer's optional affine variables, in the order Keras stores them: <c>gamma</c> when
    /// <c>scale</c>, then <c>beta</c> when <c>center</c> (both default to true).
    /// </summary>
    private static (bool Scale, bool Center, string[] Roles) AffineRoles(JsonElement config)
    {
        var scale = KerasJson.Bool(config, "scale", true);
        var center = KerasJson.Bool(config, "center", true);
        string[] roles = [.. scale ? ["gamma"] : Array.Empty<string>(), .. center ? ["beta"] : Array.Empty<string>()];
        return (scale, center, roles);
    }

    private static void RequireChannelAxis(JsonElement config, TensorShape shape, string where)
    {
        var axis = KerasJson.Axis(config) ?? -1;
        var last = shape.IsSequence ? 2 : 1;
        if (axis != -1 && axis != last)
        {
            throw new KerasImportException($"Unsupported {where}: normalisation over axis {axis}; only the channel axis is supported.");
        }
    }

    private static Padding ParsePadding(string padding, string where, bool allowCausal) => padding.ToLowerInvariant() switch
    {
        "valid" => Padding.Valid,
        "same" => Padding.Same,
        "causal" when allowCausal => Padding.Causal,
        _ => throw new KerasImportException($"Unsupported {where}: padding '{padding}'."),
    };

    private static Activation ParseActivation(string name, string where) =>
        KerasActivations.Parse(name) ?? throw new KerasImportException($"Unsupported {where}: activation '{name}'.");

    private static float[] Filled(int count, float value) => Enumerable.Repeat(value, count).ToArray();

    private string Unique(string name)
    {
        var candidate = name;
        for (var i = 1; _shapes.ContainsKey(candidate); i++)
        {
            candidate = string.Create(CultureInfo.InvariantCulture, $"{name}~{i}");
        }

        return candidate;
    }
}
