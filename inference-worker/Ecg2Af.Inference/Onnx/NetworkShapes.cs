namespace Ecg2Af.Inference.Onnx;

/// <summary>A per-sample tensor shape: a sequence <c>[Time, Channels]</c> or, when <see cref="Time"/> is null, a vector.</summary>
public readonly record struct TensorShape(int? Time, int Channels)
{
    public bool IsSequence => Time is not null;

    public long Size => (long)(Time ?? 1) * Channels;

    public override string ToString() => Time is { } t ? $"[{t}, {Channels}]" : $"[{Channels}]";
}

/// <summary>Shape inference and validation for a <see cref="Network"/>.</summary>
public static class NetworkShapes
{
    /// <summary>
    /// The shape of every tensor (the input and each layer's output). Throws <see cref="InvalidOperationException"/>
    /// naming the layer when shapes or weight sizes do not fit.
    /// </summary>
    public static IReadOnlyDictionary<string, TensorShape> Infer(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var shapes = new Dictionary<string, TensorShape>(StringComparer.Ordinal)
        {
            [network.Input.Name] = new TensorShape(network.Input.Samples, network.Input.Channels),
        };
        foreach (var layer in network.Layers)
        {
            if (shapes.ContainsKey(layer.Name))
            {
                throw new InvalidOperationException($"Tensor name '{layer.Name}' is used twice.");
            }

            var inputs = layer.Inputs.Select(name => shapes.TryGetValue(name, out var s)
                ? s
                : throw Fail(layer, $"reads '{name}', which is not defined before it")).ToArray();
            if (inputs.Length == 0)
            {
                throw Fail(layer, "has no inputs");
            }

            shapes[layer.Name] = LayerOutput(layer, inputs);
        }

        foreach (var output in network.Outputs)
        {
            if (!shapes.ContainsKey(output.Tensor))
            {
                throw new InvalidOperationException($"Output '{output.Name}' refers to unknown tensor '{output.Tensor}'.");
            }
        }

        return shapes;
    }

    /// <summary>Output length of a Conv1D along time (Keras/TensorFlow rules).</summary>
    public static int ConvLength(int length, int kernel, int strides, int dilation, Padding padding) => padding switch
    {
        Padding.Valid => (length - (dilation * (kernel - 1)) - 1) / strides + 1,
        _ => (length + strides - 1) / strides,
    };

    /// <summary>The output shape of one layer given its input shapes; throws naming the layer when they do not fit.</summary>
    internal static TensorShape LayerOutput(Layer layer, TensorShape[] inputs)
    {
        var x = inputs[0];
        if (layer is not (AddLayer or ConcatenateLayer) && inputs.Length != 1)
        {
            throw Fail(layer, $"takes one input, got {inputs.Length}");
        }

        switch (layer)
        {
            case Conv1DLayer c:
                {
                    var t = RequireSequence(layer, x);
                    Check(layer, c.KernelSize >= 1 && c.Strides >= 1 && c.Dilation >= 1 && c.Filters >= 1, "has a non-positive size");
                    Check(layer, c.Strides == 1 || c.Dilation == 1, "has both strides and dilation above 1");
                    Check(layer, c.Kernel.Length == (long)c.KernelSize * x.Channels * c.Filters,
                        $"kernel has {c.Kernel.Length} values; ({c.KernelSize}, {x.Channels}, {c.Filters}) expected");
                    Check(layer, c.Bias is null || c.Bias.Length == c.Filters, "bias size differs from filters");
                    var length = ConvLength(t, c.KernelSize, c.Strides, c.Dilation, c.Padding);
                    Check(layer, length >= 1, $"input length {t} is too short for the kernel");
                    return new TensorShape(length, c.Filters);
                }

            case DenseLayer d:
                Check(layer, d.Kernel.Length == (long)x.Channels * d.Units,
                    $"kernel has {d.Kernel.Length} values; ({x.Channels}, {d.Units}) expected");
                Check(layer, d.Bias is null || d.Bias.Length == d.Units, "bias size differs from units");
                return x with { Channels = d.Units };

            case ActivationLayer or IdentityLayer:
                return x;

            case AddLayer:
                Check(layer, inputs.Length >= 2 && inputs.All(s => s == x), $"needs two or more equal shapes, got {string.Join(", ", inputs)}");
                return x;

            case ConcatenateLayer cat:
                Check(layer, inputs.Length >= 2, "needs two or more inputs");
                if (cat.Axis == ConcatAxis.Channels)
                {
                    Check(layer, inputs.All(s => s.Time == x.Time), $"joins channels of tensors with different lengths: {string.Join(", ", inputs)}");
                    return x with { Channels = inputs.Sum(s => s.Channels) };
                }

                RequireSequence(layer, x);
                Check(layer, inputs.All(s => s.IsSequence && s.Channels == x.Channels), "joins time of tensors with different channels");
                return x with { Time = inputs.Sum(s => s.Time!.Value) };

            case Pool1DLayer p:
                {
                    var t = RequireSequence(layer, x);
                    Check(layer, p.PoolSize >= 1 && p.Strides >= 1, "has a non-positive size");
                    Check(layer, p.Padding is Padding.Valid or Padding.Same, "padding must be valid or same");
                    var length = p.Padding == Padding.Valid ? (t - p.PoolSize) / p.Strides + 1 : (t + p.Strides - 1) / p.Strides;
                    Check(layer, length >= 1 && t >= (p.Padding == Padding.Valid ? p.PoolSize : 1), $"input length {t} is shorter than the pool");
                    return new TensorShape(length, x.Channels);
                }

            case GlobalPool1DLayer:
                RequireSequence(layer, x);
                return new TensorShape(null, x.Channels);

            case FlattenLayer:
                return new TensorShape(null, checked((int)x.Size));

            case BatchNormLayer bn:
                Check(layer, new[] { bn.Gamma, bn.Beta, bn.MovingMean, bn.MovingVariance }.All(a => a.Length == x.Channels),
                    $"parameters must have {x.Channels} values");
                return x;

            case LayerNormLayer ln:
                Check(layer, ln.Gamma.Length == x.Channels && ln.Beta.Length == x.Channels, $"parameters must have {x.Channels} values");
                return x;

            default:
                throw Fail(layer, $"is of unsupported type {layer.GetType().Name}");
        }
    }

    private static int RequireSequence(Layer layer, TensorShape shape) =>
        shape.Time ?? throw Fail(layer, $"needs a [time, channels] input, got {shape}");

    private static void Check(Layer layer, bool condition, string message)
    {
        if (!condition)
        {
            throw Fail(layer, message);
        }
    }

    private static InvalidOperationException Fail(Layer layer, string message) =>
        new($"Layer '{layer.Name}' ({layer.GetType().Name}) {message}.");
}
