using Google.Protobuf;
using Onnx;

namespace Ecg2Af.Inference.Onnx;

/// <summary>What <see cref="Conv1DTo2D.Rewrite(byte[])"/> did: the graph ONNX Runtime should load, and how much it changed.</summary>
/// <param name="Model">The rewritten model's bytes, or the input itself when nothing qualified.</param>
/// <param name="Convolutions">1-D Conv nodes now run as 2-D.</param>
/// <param name="Pools">1-D MaxPool/AveragePool nodes now run as 2-D.</param>
/// <param name="Regions">Unsqueeze nodes that enter a 2-D region (one per 3-D value the 2-D nodes read).</param>
public sealed record Conv1DTo2DResult(byte[] Model, int Convolutions, int Pools, int Regions)
{
    public bool Changed => Convolutions + Pools > 0;
}

/// <summary>
/// Rewrites the 1-D convolutions and poolings of an ONNX graph as their 2-D forms with height 1, so ONNX Runtime's
/// NCHWc layout transformer (2-D only) takes them onto its blocked kernels. A 3-D value <c>[N, C, W]</c> becomes
/// <c>[N, C, 1, W]</c> (Unsqueeze axis 2) where a 2-D region starts; Conv weights <c>[O, I, K]</c> become
/// <c>[O, I, 1, K]</c>, <c>kernel_shape [K]</c> → <c>[1, K]</c>, <c>pads [b, e]</c> → <c>[0, b, 0, e]</c>, strides and
/// dilations <c>[s]</c> → <c>[1, s]</c>. Element-wise nodes (activations, Add, Mul, …), BatchNormalization and Concat
/// whose inputs are already 2-D stay in the region, so a convolutional trunk is lifted once and squeezed back (Squeeze
/// axis 2, under the original value name) only where a node outside the region, or a graph output, reads it. The
/// arithmetic is the same; only the layout ONNX Runtime picks changes. Nodes in other domains and subgraphs are left
/// alone.
/// </summary>
public static class Conv1DTo2D
{
    private static readonly HashSet<string> Unary = new(StringComparer.Ordinal)
    {
        "Relu", "Sigmoid", "Tanh", "Elu", "LeakyRelu", "Selu", "Softplus", "Softsign", "Exp", "Erf", "Identity",
        "HardSigmoid", "HardSwish", "Neg", "Abs", "Sqrt", "Reciprocal", "Gelu", "Mish",
    };

    private static readonly HashSet<string> Binary = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum" };

    /// <summary>Rewrites the model in <paramref name="onnx"/>; returns the input bytes unchanged when no node qualifies.</summary>
    public static Conv1DTo2DResult Rewrite(byte[] onnx)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var model = ModelProto.Parser.ParseFrom(onnx);
        var (convs, pools, regions) = Rewrite(model);
        return convs + pools == 0 ? new Conv1DTo2DResult(onnx, 0, 0, 0) : new Conv1DTo2DResult(model.ToByteArray(), convs, pools, regions);
    }

    /// <summary>Rewrites <paramref name="model"/> in place.</summary>
    public static (int Convolutions, int Pools, int Regions) Rewrite(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        return new Lifter(model.Graph, opset).Run();
    }

    private sealed class Lifter(GraphProto graph, long opset)
    {
        private readonly Dictionary<string, TensorProto> _initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _lifted = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _unsqueezed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _weights = new(StringComparer.Ordinal);
        private string? _axes;
        private int _count;

        public (int, int, int) Run()
        {
            foreach (var input in graph.Input)
            {
                _names.Add(input.Name);
                if (input.Type?.TensorType?.Shape is { } shape)
                {
                    _ranks[input.Name] = shape.Dim.Count;
                }
            }

            foreach (var initializer in graph.Initializer)
            {
                _names.Add(initializer.Name);
                _ranks[initializer.Name] = initializer.Dims.Count;
            }

            foreach (var node in graph.Node)
            {
                foreach (var output in node.Output)
                {
                    _names.Add(output);
                }
            }

            // Decide in topological order (the order ONNX requires of graph.node): a node is lifted when it is a 1-D
            // Conv/Pool, or a layout-neutral node fed by a lifted value whose other inputs can follow it.
            var lift = new bool[graph.Node.Count];
            var liftedValues = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                lift[i] = node.Domain is "" or "ai.onnx" && Decide(node, liftedValues);
                PropagateRank(node, lift[i]);
                if (lift[i])
                {
                    liftedValues.Add(node.Output[0]);
                }
            }

            var readOutside = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
            for (var i = 0; i < graph.Node.Count; i++)
            {
                if (!lift[i])
                {
                    readOutside.UnionWith(graph.Node[i].Input);
                }
            }

            int convs = 0, pools = 0;
            var nodes = new List<NodeProto>();
            for (var i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                if (!lift[i])
                {
                    nodes.Add(node);
                    continue;
                }

                for (var j = 0; j < node.Input.Count; j++)
                {
                    var name = node.Input[j];
                    if (name.Length == 0)
                    {
                        continue;
                    }

                    if (_lifted.TryGetValue(name, out var lifted))
                    {
                        node.Input[j] = lifted;
                    }
                    else if (j == 1 && node.OpType == "Conv" && _initializers.TryGetValue(name, out var weight) && weight.Dims.Count == 3)
                    {
                        node.Input[j] = LiftWeight(weight);
                    }
                    else if (Rank(name) == 3 && (j == 0 || node.OpType is not ("Conv" or "BatchNormalization")))
                    {
                        node.Input[j] = Unsqueeze(name, nodes);
                    }
                }

                switch (node.OpType)
                {
                    case "Conv":
                        convs++;
                        LiftWindow(node);
                        break;
                    case "MaxPool" or "AveragePool" or "LpPool":
                        pools++;
                        LiftWindow(node);
                        break;
                    case "Concat":
                        var axis = node.Attribute.First(a => a.Name == "axis");
                        var normalized = axis.I < 0 ? axis.I + 3 : axis.I;
                        axis.I = normalized >= 2 ? normalized + 1 : normalized;
                        break;
                }

                var original = node.Output[0];
                var renamed = Unique(original + "/h1");
                node.Output[0] = renamed;
                _lifted[original] = renamed;
                nodes.Add(node);
                if (readOutside.Contains(original))
                {
                    nodes.Add(AxisNode("Squeeze", renamed, original));
                }
            }

            if (convs + pools == 0)
            {
                return (0, 0, 0);
            }

            graph.Node.Clear();
            graph.Node.AddRange(nodes);
            RemoveReplacedWeights(nodes);

            // Shapes recorded for values that no longer exist would only confuse a reader of the graph.
            var present = new HashSet<string>(nodes.SelectMany(n => n.Output), StringComparer.Ordinal);
            var stale = graph.ValueInfo.Where(v => !present.Contains(v.Name)).ToList();
            foreach (var info in stale)
            {
                graph.ValueInfo.Remove(info);
            }

            return (convs, pools, _unsqueezed.Count);
        }

        private bool Decide(NodeProto node, HashSet<string> liftedValues)
        {
            if (node.Output.Count != 1)
            {
                return false;
            }

            var data = node.Input.Count > 0 ? node.Input[0] : "";
            switch (node.OpType)
            {
                case "Conv":
                    // The weight must be a constant [O, I, K]: it is stored as [O, I, 1, K].
                    return node.Input.Count >= 2 && (liftedValues.Contains(data) || Rank(data) == 3)
                        && _initializers.TryGetValue(node.Input[1], out var weight) && weight.Dims.Count == 3;
                case "MaxPool" or "AveragePool" or "LpPool":
                    return liftedValues.Contains(data) || Rank(data) == 3;
                case "BatchNormalization":
                    return liftedValues.Contains(data);
                case "Concat":
                    return node.Input.Any(liftedValues.Contains)
                        && node.Input.All(i => liftedValues.Contains(i) || Rank(i) == 3)
                        && node.Attribute.FirstOrDefault(a => a.Name == "axis") is not null;
                default:
                    if (Unary.Contains(node.OpType))
                    {
                        return liftedValues.Contains(data);
                    }

                    if (Binary.Contains(node.OpType))
                    {
                        // Every operand is lifted, a 3-D value that can follow, or a single-element constant (which
                        // broadcasts the same against 3-D and 4-D).
                        return node.Input.Any(liftedValues.Contains)
                            && node.Input.All(i => liftedValues.Contains(i) || Rank(i) == 3 || IsScalar(i));
                    }

                    return false;
            }
        }

        private bool IsScalar(string name) =>
            _initializers.TryGetValue(name, out var tensor) && tensor.Dims.Aggregate(1L, (a, b) => a * b) == 1;

        private int Rank(string name) => _ranks.TryGetValue(name, out var rank) ? rank : -1;

        /// <summary>Ranks of 3-D values through the nodes that keep their input's rank; all this rewrite needs.</summary>
        private void PropagateRank(NodeProto node, bool lifted)
        {
            if (node.Output.Count == 0 || node.Input.Count == 0)
            {
                return;
            }

            int rank;
            if (lifted || node.OpType is "Conv" or "MaxPool" or "AveragePool" or "LpPool" or "BatchNormalization" or "Transpose"
                    || Unary.Contains(node.OpType))
            {
                rank = Rank(node.Input[0]);
            }
            else if (Binary.Contains(node.OpType) || node.OpType == "Concat")
            {
                rank = node.Input.Select(Rank).DefaultIfEmpty(-1).Min() < 0 ? -1 : node.Input.Max(Rank);
            }
            else
            {
                return;
            }

            if (rank >= 0)
            {
                _ranks[node.Output[0]] = rank;
            }
        }

        private static void LiftWindow(NodeProto node)
        {
            foreach (var attribute in node.Attribute)
            {
                switch (attribute.Name)
                {
                    case "kernel_shape" or "strides" or "dilations":
                        attribute.Ints.Insert(0, 1);
                        break;
                    case "pads" when attribute.Ints.Count == 2:
                        var (begin, end) = (attribute.Ints[0], attribute.Ints[1]);
                        attribute.Ints.Clear();
                        attribute.Ints.Add([0, begin, 0, end]);
                        break;
                }
            }
        }

        /// <summary>The weight as [O, I, 1, K] (the same bytes under new dimensions), once per weight.</summary>
        private string LiftWeight(TensorProto weight)
        {
            if (!_weights.TryGetValue(weight.Name, out var lifted))
            {
                var tensor = weight.Clone();
                tensor.Name = Unique(weight.Name + "/h1");
                tensor.Dims.Insert(2, 1);
                graph.Initializer.Add(tensor);
                lifted = tensor.Name;
                _weights[weight.Name] = lifted;
            }

            return lifted;
        }

        /// <summary>Drops the 3-D weights nothing reads any more.</summary>
        private void RemoveReplacedWeights(List<NodeProto> nodes)
        {
            var read = new HashSet<string>(nodes.SelectMany(n => n.Input), StringComparer.Ordinal);
            read.UnionWith(graph.Input.Select(i => i.Name));
            read.UnionWith(graph.Output.Select(o => o.Name));
            foreach (var name in _weights.Keys.Where(n => !read.Contains(n)))
            {
                graph.Initializer.Remove(_initializers[name]);
            }
        }

        private string Unsqueeze(string name, List<NodeProto> nodes)
        {
            if (!_unsqueezed.TryGetValue(name, out var lifted))
            {
                lifted = Unique(name + "/h1");
                nodes.Add(AxisNode("Unsqueeze", name, lifted));
                _unsqueezed[name] = lifted;
            }

            return lifted;
        }

        /// <summary>Unsqueeze or Squeeze on axis 2: the axes are an input from opset 13 on, an attribute before.</summary>
        private NodeProto AxisNode(string op, string input, string output)
        {
            var node = new NodeProto { OpType = op, Name = Unique($"{op}_h1_{_count++}") };
            node.Input.Add(input);
            node.Output.Add(output);
            if (opset >= 13)
            {
                node.Input.Add(AxesInitializer());
            }
            else
            {
                var axes = new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints };
                axes.Ints.Add(2);
                node.Attribute.Add(axes);
            }

            return node;
        }

        private string AxesInitializer()
        {
            if (_axes is null)
            {
                _axes = Unique("const/axes_h1");
                var tensor = new TensorProto { Name = _axes, DataType = (int)TensorProto.Types.DataType.Int64 };
                tensor.Dims.Add(1);
                tensor.Int64Data.Add(2);
                graph.Initializer.Add(tensor);
            }

            return _axes;
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
    }
}
