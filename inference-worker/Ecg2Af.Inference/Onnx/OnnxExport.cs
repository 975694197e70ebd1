using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Ecg2Af.Inference.Onnx;

/// <summary>Options for <see cref="OnnxExport"/>.</summary>
public sealed record OnnxExportOptions
{
    public string GraphName { get; init; } = "network";

    public string? DocString { get; init; }

    /// <summary>Written to the model's <c>metadata_props</c> in key order (so the bytes do not depend on insertion order).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>
/// Lowers a <see cref="Network"/> to an ONNX model (IR 8, opset 17) following ecg2af-model.md §5.3: the input
/// <c>[N, T, C]</c> is transposed once to NCW, sequences stay NCW, and Flatten transposes back to NWC first so Dense
/// rows keep Keras' t·C + c order. The batch dimension is the symbolic <c>N</c>. The output is deterministic: the same
/// network gives the same bytes.
/// </summary>
public static class OnnxExport
{
    public const long IrVersion = 8;
    public const long Opset = 17;
    public const string BatchDimension = "N";
    public const string Producer = "Ecg2Af.Inference";

    public static ModelProto ToModel(Network network, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= new OnnxExportOptions();
        var shapes = NetworkShapes.Infer(network);
        var emitter = new Emitter(network, shapes);
        var graph = emitter.Emit();
        graph.Name = options.GraphName;
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = Producer,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (options.DocString is not null)
        {
            model.DocString = options.DocString;
        }

        foreach (var (key, value) in (options.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    public static byte[] ToBytes(Network network, OnnxExportOptions? options = null) => ToModel(network, options).ToByteArray();

    /// <summary>The (left, right) padding of a convolution or pooling window under Keras' padding rule.</summary>
    internal static (int Left, int Right) Pads(Padding padding, int length, int window, int strides, int dilation)
    {
        var span = (dilation * (window - 1)) + 1;
        switch (padding)
        {
            case Padding.Valid:
                return (0, 0);
            case Padding.Causal:
                return (span - 1, 0);
            default:
                var outLength = (length + strides - 1) / strides;
                var total = Math.Max(((outLength - 1) * strides) + span - length, 0);
                return (total / 2, total - (total / 2));
        }
    }

    private sealed class Emitter(Network network, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        private readonly GraphProto _graph = new();
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly Dictionary<float, string> _scalars = [];
        private int _nodeCount;

        public GraphProto Emit()
        {
            var input = network.Input;
            _names.Add(input.Name);
            foreach (var output in network.Outputs)
            {
                if (!_names.Add(output.Name))
                {
                    throw new InvalidOperationException($"Output name '{output.Name}' is used twice or equals the input name.");
                }
            }

            _graph.Input.Add(ValueInfo(input.Name, shapes[input.Name]));
            _values[input.Name] = Node("Transpose", [input.Name], Unique(input.Name + "/ncw"), Ints("perm", 0, 2, 1));
            foreach (var layer in network.Layers)
            {
                _values[layer.Name] = Lower(layer, FinalName(layer));
            }

            foreach (var output in network.Outputs)
            {
                var value = _values[output.Tensor];
                var shape = shapes[output.Tensor];
                if (shape.IsSequence)
                {
                    Node("Transpose", [value], output.Name, Ints("perm", 0, 2, 1));
                }
                else if (value != output.Name)
                {
                    Node("Identity", [value], output.Name);
                }

                _graph.Output.Add(ValueInfo(output.Name, shape));
            }

            return _graph;
        }

        /// <summary>A vector layer that is itself an output writes the output name directly; others get a unique name.</summary>
        private string FinalName(Layer layer)
        {
            var isOwnOutput = network.Outputs.Any(o => o.Name == layer.Name && o.Tensor == layer.Name);
            return isOwnOutput && !shapes[layer.Name].IsSequence ? layer.Name : Unique(layer.Name);
        }

        private string Lower(Layer layer, string output)
        {
            var x = _values[layer.Inputs[0]];
            var inShape = shapes[layer.Inputs[0]];
            var prefix = layer.Name;
            switch (layer)
            {
                case Conv1DLayer c:
                    {
                        var (left, right) = Pads(c.Padding, inShape.Time!.Value, c.KernelSize, c.Strides, c.Dilation);
                        var weight = Initializer(prefix + "/kernel", ConvWeight(c, inShape.Channels), c.Filters, inShape.Channels, c.KernelSize);
                        var inputs = c.Bias is null ? new[] { x, weight } : [x, weight, Initializer(prefix + "/bias", c.Bias, c.Filters)];
                        var convOut = c.Activation.Kind == ActivationKind.Linear ? output : Unique(prefix + "/conv");
                        Node("Conv", inputs, convOut,
                            Ints("kernel_shape", c.KernelSize), Ints("strides", c.Strides), Ints("dilations", c.Dilation),
                            Ints("pads", left, right), Int("group", 1));
                        return Activate(convOut, c.Activation, true, prefix, output);
                    }

                case DenseLayer d:
                    {
                        var weight = Initializer(prefix + "/kernel", d.Kernel, inShape.Channels, d.Units);
                        var denseOut = d.Activation.Kind == ActivationKind.Linear ? output : Unique(prefix + "/dense");
                        if (!inShape.IsSequence)
                        {
                            var inputs = d.Bias is null ? new[] { x, weight } : [x, weight, Initializer(prefix + "/bias", d.Bias, d.Units)];
                            Node("Gemm", inputs, denseOut);
                        }
                        else
                        {
                            var nwc = Node("Transpose", [x], Unique(prefix + "/nwc"), Ints("perm", 0, 2, 1));
                            var product = Node("MatMul", [nwc, weight], Unique(prefix + "/matmul"));
                            if (d.Bias is not null)
                            {
                                product = Node("Add", [product, Initializer(prefix + "/bias", d.Bias, d.Units)], Unique(prefix + "/biased"));
                            }

                            Node("Transpose", [product], denseOut, Ints("perm", 0, 2, 1));
                        }

                        return Activate(denseOut, d.Activation, inShape.IsSequence, prefix, output);
                    }

                case ActivationLayer a:
                    return Activate(x, a.Activation, inShape.IsSequence, prefix, output);

                case IdentityLayer:
                    return Node("Identity", [x], output);

                case AddLayer:
                    {
                        var sum = x;
                        for (var i = 1; i < layer.Inputs.Count; i++)
                        {
                            var target = i == layer.Inputs.Count - 1 ? output : Unique($"{prefix}/sum{i}");
                            sum = Node("Add", [sum, _values[layer.Inputs[i]]], target);
                        }

                        return sum;
                    }

                case ConcatenateLayer cat:
                    {
                        var axis = !inShape.IsSequence ? 1 : cat.Axis == ConcatAxis.Channels ? 1 : 2;
                        return Node("Concat", layer.Inputs.Select(i => _values[i]).ToArray(), output, Int("axis", axis));
                    }

                case Pool1DLayer p:
                    {
                        var (left, right) = Pads(p.Padding, inShape.Time!.Value, p.PoolSize, p.Strides, 1);
                        var attributes = new List<AttributeProto>
                        {
                            Ints("kernel_shape", p.PoolSize), Ints("strides", p.Strides), Ints("pads", left, right),
                        };
                        if (p.Kind == PoolKind.Average)
                        {
                            attributes.Add(Int("count_include_pad", 0));
                        }

                        return Node(p.Kind == PoolKind.Max ? "MaxPool" : "AveragePool", [x], output, [.. attributes]);
                    }

                case GlobalPool1DLayer g:
                    {
                        var pooled = Node(g.Kind == PoolKind.Max ? "GlobalMaxPool" : "GlobalAveragePool", [x], Unique(prefix + "/pool"));
                        return Node("Flatten", [pooled], output, Int("axis", 1));
                    }

                case FlattenLayer:
                    {
                        var source = inShape.IsSequence ? Node("Transpose", [x], Unique(prefix + "/nwc"), Ints("perm", 0, 2, 1)) : x;
                        return Node("Flatten", [source], output, Int("axis", 1));
                    }

                case BatchNormLayer bn:
                    {
                        var c = bn.Gamma.Length;
                        return Node("BatchNormalization",
                            [
                                x,
                                Initializer(prefix + "/gamma", bn.Gamma, c),
                                Initializer(prefix + "/beta", bn.Beta, c),
                                Initializer(prefix + "/moving_mean", bn.MovingMean, c),
                                Initializer(prefix + "/moving_variance", bn.MovingVariance, c),
                            ],
                            output, Float("epsilon", bn.Epsilon));
                    }

                case LayerNormLayer ln:
                    {
                        var c = ln.Gamma.Length;
                        var gamma = Initializer(prefix + "/gamma", ln.Gamma, c);
                        var beta = Initializer(prefix + "/beta", ln.Beta, c);
                        if (!inShape.IsSequence)
                        {
                            return Node("LayerNormalization", [x, gamma, beta], output, Int("axis", -1), Float("epsilon", ln.Epsilon));
                        }

                        var nwc = Node("Transpose", [x], Unique(prefix + "/nwc"), Ints("perm", 0, 2, 1));
                        var normed = Node("LayerNormalization", [nwc, gamma, beta], Unique(prefix + "/normed"),
                            Int("axis", -1), Float("epsilon", ln.Epsilon));
                        return Node("Transpose", [normed], output, Ints("perm", 0, 2, 1));
                    }

                default:
                    throw new InvalidOperationException($"Layer '{layer.Name}' of type {layer.GetType().Name} cannot be lowered to ONNX.");
            }
        }

        /// <summary>Applies <paramref name="activation"/> to <paramref name="x"/>, writing <paramref name="output"/>.</summary>
        private string Activate(string x, Activation activation, bool isSequence, string prefix, string output)
        {
            string Temp(string suffix) => Unique($"{prefix}/{suffix}");
            switch (activation.Kind)
            {
                case ActivationKind.Linear:
                    return x == output ? x : Node("Identity", [x], output);
                case ActivationKind.Relu:
                    return Node("Relu", [x], output);
                case ActivationKind.Sigmoid:
                    return Node("Sigmoid", [x], output);
                case ActivationKind.Tanh:
                    return Node("Tanh", [x], output);
                case ActivationKind.Softplus:
                    return Node("Softplus", [x], output);
                case ActivationKind.Softsign:
                    return Node("Softsign", [x], output);
                case ActivationKind.Exponential:
                    return Node("Exp", [x], output);
                case ActivationKind.Softmax:
                    // Keras' last axis is channels: axis 1 in NCW sequences and in [N, F] vectors.
                    return Node("Softmax", [x], output, Int("axis", 1));
                case ActivationKind.Elu:
                    return Node("Elu", [x], output, Float("alpha", activation.Alpha));
                case ActivationKind.LeakyRelu:
                    return Node("LeakyRelu", [x], output, Float("alpha", activation.Alpha));
                case ActivationKind.Selu:
                    return Node("Selu", [x], output, Float("alpha", Activations.SeluAlpha), Float("gamma", Activations.SeluScale));
                case ActivationKind.Swish:
                    return Node("Mul", [x, Node("Sigmoid", [x], Temp("sigmoid"))], output);
                case ActivationKind.Mish:
                    {
                        var softplus = Node("Softplus", [x], Temp("softplus"));
                        return Node("Mul", [x, Node("Tanh", [softplus], Temp("tanh"))], output);
                    }

                case ActivationKind.Lisht:
                    return Node("Mul", [x, Node("Tanh", [x], Temp("tanh"))], output);
                case ActivationKind.GeluErf:
                    {
                        var scaled = Node("Mul", [x, Scalar((float)(1 / Math.Sqrt(2)))], Temp("scaled"));
                        var erf = Node("Erf", [scaled], Temp("erf"));
                        var onePlus = Node("Add", [erf, Scalar(1f)], Temp("one_plus"));
                        var product = Node("Mul", [x, onePlus], Temp("product"));
                        return Node("Mul", [product, Scalar(0.5f)], output);
                    }

                case ActivationKind.GeluTanh:
                    {
                        var square = Node("Mul", [x, x], Temp("square"));
                        var cube = Node("Mul", [square, x], Temp("cube"));
                        var cubic = Node("Mul", [cube, Scalar((float)Activations.GeluCubic)], Temp("cubic"));
                        var inner = Node("Add", [x, cubic], Temp("inner"));
                        var scaled = Node("Mul", [inner, Scalar((float)Math.Sqrt(2 / Math.PI))], Temp("scaled"));
                        var tanh = Node("Tanh", [scaled], Temp("tanh"));
                        var onePlus = Node("Add", [tanh, Scalar(1f)], Temp("one_plus"));
                        var product = Node("Mul", [x, onePlus], Temp("product"));
                        return Node("Mul", [product, Scalar(0.5f)], output);
                    }

                default:
                    throw new InvalidOperationException($"Activation {activation} cannot be lowered to ONNX.");
            }
        }

        /// <summary>Keras (K, C_in, F) → ONNX (F, C_in, K).</summary>
        private static float[] ConvWeight(Conv1DLayer c, int inChannels)
        {
            var weight = new float[c.Kernel.Length];
            for (var k = 0; k < c.KernelSize; k++)
            {
                for (var ci = 0; ci < inChannels; ci++)
                {
                    for (var f = 0; f < c.Filters; f++)
                    {
                        weight[(((f * inChannels) + ci) * c.KernelSize) + k] = c.Kernel[(((k * inChannels) + ci) * c.Filters) + f];
                    }
                }
            }

            return weight;
        }

        private string Unique(string name)
        {
            var candidate = name;
            for (var i = 1; !_names.Add(candidate); i++)
            {
                candidate = $"{name}:{i}";
            }

            return candidate;
        }

        private string Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = $"{op}_{_nodeCount++}" };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            _graph.Node.Add(node);
            return output;
        }

        private string Initializer(string name, float[] data, params long[] dims)
        {
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian.");
            }

            var tensor = new TensorProto
            {
                Name = Unique(name),
                DataType = (int)TensorProto.Types.DataType.Float,
                RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())),
            };

            tensor.Dims.AddRange(dims);
            _graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        private string Scalar(float value)
        {
            if (!_scalars.TryGetValue(value, out var name))
            {
                name = Initializer(FormattableString.Invariant($"const/{value:R}"), [value]);
                _scalars[value] = name;
            }

            return name;
        }

        private static ValueInfoProto ValueInfo(string name, TensorShape shape)
        {
            var tensorShape = new TensorShapeProto();
            tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
            if (shape.Time is { } time)
            {
                tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = time });
            }

            tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = shape.Channels });
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto
                {
                    TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape },
                },
            };
        }

        private static AttributeProto Ints(string name, params long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            return attribute;
        }

        private static AttributeProto Int(string name, long value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        private static AttributeProto Float(string name, double value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };
    }
}
