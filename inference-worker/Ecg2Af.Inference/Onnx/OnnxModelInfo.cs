using System.Globalization;
using Onnx;

namespace Ecg2Af.Inference.Onnx;

/// <summary>A graph input or output: name, element type and dimensions (numbers, or the symbolic name).</summary>
public sealed record OnnxTensorInfo(string Name, string ElementType, IReadOnlyList<string> Dims)
{
    public override string ToString() => $"{Name} {ElementType}[{string.Join(", ", Dims)}]";
}

/// <summary>
/// What <c>ecg2af inspect</c> reports about an ONNX file, read from the graph alone: inputs, outputs, parameters
/// (elements of float initializers of rank ≥ 1, so scalar constants are not counted) and multiply-accumulates for one
/// input (batch 1), found by propagating static shapes through the graph. MACs count Conv, Gemm and MatMul only, as
/// <see cref="ModelCost"/> does.
/// </summary>
public sealed record OnnxModelInfo
{
    public required IReadOnlyList<OnnxTensorInfo> Inputs { get; init; }

    public required IReadOnlyList<OnnxTensorInfo> Outputs { get; init; }

    public required long Parameters { get; init; }

    /// <summary>Null when a shape could not be followed; <see cref="MacsNote"/> says why.</summary>
    public long? MacsPerInput { get; init; }

    public string? MacsNote { get; init; }

    public required long IrVersion { get; init; }

    public required long Opset { get; init; }

    public required int Nodes { get; init; }

    public string? DocString { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public static OnnxModelInfo Read(string path) => From(ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)));

    public static OnnxModelInfo From(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var parameters = graph.Initializer
            .Where(i => i.DataType is (int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Double
                or (int)TensorProto.Types.DataType.Float16 or (int)TensorProto.Types.DataType.Bfloat16 && i.Dims.Count > 0)
            .Sum(i => i.Dims.Aggregate(1L, (a, b) => a * b));
        long? macs;
        string? note = null;
        try
        {
            macs = ShapeWalker.CountMacs(graph, initializers);
        }
        catch (NotSupportedException e)
        {
            macs = null;
            note = e.Message;
        }

        return new OnnxModelInfo
        {
            Inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).Select(Describe).ToList(),
            Outputs = graph.Output.Select(Describe).ToList(),
            Parameters = parameters,
            MacsPerInput = macs,
            MacsNote = note,
            IrVersion = model.IrVersion,
            Opset = model.OpsetImport.Where(o => o.Domain.Length == 0 || o.Domain == "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max(),
            Nodes = graph.Node.Count,
            DocString = model.DocString.Length == 0 ? null : model.DocString,
            Metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
    }

    private static OnnxTensorInfo Describe(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        var type = tensor is null ? "?" : ((TensorProto.Types.DataType)tensor.ElemType).ToString().ToLowerInvariant();
        var dims = tensor?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
            ? d.DimValue.ToString(CultureInfo.InvariantCulture)
            : d.DimParam.Length > 0 ? d.DimParam : "?").ToList() ?? [];
        return new OnnxTensorInfo(value.Name, type, dims);
    }

    /// <summary>Static shape propagation with batch 1 over the operators our graphs use.</summary>
    private static class ShapeWalker
    {
        private static readonly HashSet<string> SameShape = new(StringComparer.Ordinal)
        {
            "Relu", "Sigmoid", "Tanh", "Erf", "Exp", "Log", "Softplus", "Softsign", "Elu", "Selu", "LeakyRelu", "Identity",
            "Softmax", "LogSoftmax", "BatchNormalization", "LayerNormalization", "InstanceNormalization", "Dropout", "Abs",
            "Neg", "Sqrt", "Reciprocal", "Clip", "HardSigmoid", "HardSwish", "Mish", "Gelu", "Cast", "PRelu", "Sign",
        };

        private static readonly HashSet<string> Broadcast = new(StringComparer.Ordinal)
        {
            "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where",
        };

        public static long CountMacs(GraphProto graph, Dictionary<string, TensorProto> initializers)
        {
            var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var init in initializers.Values)
            {
                shapes[init.Name] = [.. init.Dims];
            }

            foreach (var input in graph.Input.Where(i => !shapes.ContainsKey(i.Name)))
            {
                shapes[input.Name] = input.Type.TensorType.Shape.Dim
                    .Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : 1L).ToArray();
            }

            long macs = 0;
            foreach (var node in graph.Node)
            {
                long[] In(int i) => shapes.TryGetValue(node.Input[i], out var s)
                    ? s
                    : throw new NotSupportedException($"MACs unknown: no shape for '{node.Input[i]}'.");
                var op = node.OpType;
                long[] output;
                if (SameShape.Contains(op))
                {
                    output = In(0);
                }
                else if (Broadcast.Contains(op))
                {
                    output = node.Input.Select((_, i) => In(i)).Aggregate(BroadcastShapes);
                }
                else
                {
                    switch (op)
                    {
                        case "Transpose":
                            {
                                var x = In(0);
                                var perm = Ints(node, "perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
                                output = perm.Select(p => x[p]).ToArray();
                                break;
                            }

                        case "Conv":
                            {
                                var x = In(0);
                                var w = In(1);
                                output = Window(node, x, w[2..], w[0]);
                                macs += output.Aggregate(1L, (a, b) => a * b) * w[1..].Aggregate(1L, (a, b) => a * b);
                                break;
                            }

                        case "MaxPool" or "AveragePool":
                            {
                                var x = In(0);
                                output = Window(node, x, Ints(node, "kernel_shape")!, x[1]);
                                break;
                            }

                        case "GlobalMaxPool" or "GlobalAveragePool":
                            output = In(0).Select((d, i) => i < 2 ? d : 1).ToArray();
                            break;
                        case "Flatten":
                            {
                                var x = In(0);
                                var axis = (int)(Int(node, "axis") ?? 1);
                                axis = axis < 0 ? axis + x.Length : axis;
                                output = [x[..axis].Aggregate(1L, (a, b) => a * b), x[axis..].Aggregate(1L, (a, b) => a * b)];
                                break;
                            }

                        case "Reshape":
                            output = Reshape(In(0), initializers.TryGetValue(node.Input[1], out var target)
                                ? target.Int64Data.Count > 0 ? [.. target.Int64Data] : Int64s(target)
                                : throw new NotSupportedException("MACs unknown: Reshape with a computed shape."));
                            break;
                        case "Gemm":
                            {
                                var a = In(0);
                                var b = In(1);
                                var (m, k) = Int(node, "transA") == 1 ? (a[1], a[0]) : (a[0], a[1]);
                                var n = Int(node, "transB") == 1 ? b[0] : b[1];
                                output = [m, n];
                                macs += m * k * n;
                                break;
                            }

                        case "MatMul":
                            {
                                var a = In(0);
                                var b = In(1);
                                var k = a[^1];
                                var batch = BroadcastShapes(a[..^2], b.Length > 2 ? b[..^2] : []);
                                output = [.. batch, a[^2], b[^1]];
                                macs += output.Aggregate(1L, (x, y) => x * y) * k;
                                break;
                            }

                        case "Concat":
                            {
                                var first = In(0);
                                var axis = (int)(Int(node, "axis") ?? 0);
                                axis = axis < 0 ? axis + first.Length : axis;
                                output = (long[])first.Clone();
                                output[axis] = node.Input.Select((_, i) => In(i)[axis]).Sum();
                                break;
                            }

                        default:
                            throw new NotSupportedException($"MACs unknown: operator {op} is not followed by the shape walker.");
                    }
                }

                shapes[node.Output[0]] = output;
            }

            return macs;
        }

        /// <summary>Output of a convolution or pooling window over the spatial axes (NOTSET auto_pad, floor mode).</summary>
        private static long[] Window(NodeProto node, long[] x, long[] kernel, long channels)
        {
            var spatial = x.Length - 2;
            var strides = Ints(node, "strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
            var dilations = Ints(node, "dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
            var pads = Ints(node, "pads") ?? new long[2 * spatial];
            var output = new long[x.Length];
            output[0] = x[0];
            output[1] = channels;
            for (var i = 0; i < spatial; i++)
            {
                var span = (dilations[i] * (kernel[i] - 1)) + 1;
                output[i + 2] = ((x[i + 2] + pads[i] + pads[i + spatial] - span) / strides[i]) + 1;
            }

            return output;
        }

        private static long[] BroadcastShapes(long[] a, long[] b)
        {
            var rank = Math.Max(a.Length, b.Length);
            var output = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
                var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
                output[i] = Math.Max(da, db);
            }

            return output;
        }

        private static long[] Reshape(long[] x, long[] target)
        {
            var output = target.Select((d, i) => d == 0 ? x[i] : d).ToArray();
            var known = output.Where(d => d > 0).Aggregate(1L, (a, b) => a * b);
            var total = x.Aggregate(1L, (a, b) => a * b);
            return output.Select(d => d < 0 ? total / known : d).ToArray();
        }

        private static long[] Int64s(TensorProto tensor) =>
            tensor.RawData.Length > 0
                ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(tensor.RawData.Span).ToArray()
                : [];

        private static long[]? Ints(NodeProto node, string name) =>
            node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : null;

        private static long? Int(NodeProto node, string name) =>
            node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : null;
    }
}
