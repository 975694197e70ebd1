namespace Ecg2Af.Inference.Onnx;

/// <summary>
/// A 1-D convolutional network described layer by layer, in Keras terms: per-sample tensors are either sequences
/// <c>[time, channels]</c> (channels last) or vectors <c>[features]</c>; weights are kept in Keras layout
/// (Conv1D kernel <c>(K, C_in, F)</c>, Dense kernel <c>(in, out)</c>, both row-major).
/// The stand-in builder and the Keras importer produce it; <see cref="OnnxExport"/> lowers it to ONNX and
/// <see cref="Reference.ReferenceForward"/> runs it directly, so the two can be checked against each other.
/// </summary>
public sealed record Network
{
    public required NetworkInput Input { get; init; }

    /// <summary>Layers in an order where every layer comes after the layers it reads.</summary>
    public required IReadOnlyList<Layer> Layers { get; init; }

    /// <summary>Graph outputs in order: the ONNX output name and the tensor it exposes.</summary>
    public required IReadOnlyList<NetworkOutput> Outputs { get; init; }
}

/// <summary>The single input: <c>[N, Samples, Channels]</c>, N dynamic. Its tensor name is <see cref="Name"/>.</summary>
public sealed record NetworkInput(string Name, int Samples, int Channels);

/// <summary>A graph output: ONNX name and the layer (tensor) it comes from.</summary>
public sealed record NetworkOutput(string Name, string Tensor);

/// <summary>Conv1D padding as Keras spells it.</summary>
public enum Padding
{
    Valid,

    /// <summary>TensorFlow "same": output length ceil(L / stride); the odd extra pad goes on the right.</summary>
    Same,

    /// <summary>Left padding of dilation·(K − 1): output t sees only inputs ≤ t.</summary>
    Causal,
}

public enum ActivationKind
{
    Linear,
    Relu,
    Sigmoid,
    Tanh,

    /// <summary>Softmax over the channel (last Keras) axis.</summary>
    Softmax,

    /// <summary>x·σ(x) (Keras swish / silu).</summary>
    Swish,

    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)) (Keras <c>gelu</c>).</summary>
    GeluErf,

    /// <summary>Tanh-approximated GELU (tensorflow-addons <c>Addons&gt;gelu</c>, approximate = True).</summary>
    GeluTanh,

    /// <summary>x·tanh(softplus(x)).</summary>
    Mish,

    /// <summary>x for x &gt; 0, α·(eˣ − 1) otherwise.</summary>
    Elu,
    Selu,

    /// <summary>x for x &gt; 0, α·x otherwise.</summary>
    LeakyRelu,
    Softplus,
    Softsign,

    /// <summary>x·tanh(x) (tensorflow-addons <c>lisht</c>).</summary>
    Lisht,
    Exponential,
}

/// <summary>An activation function and its parameter (α for ELU and LeakyReLU).</summary>
public readonly record struct Activation(ActivationKind Kind, double Alpha = 0)
{
    public static Activation Linear => new(ActivationKind.Linear);

    public override string ToString() => Kind is ActivationKind.Elu or ActivationKind.LeakyRelu
        ? FormattableString.Invariant($"{Kind}({Alpha})")
        : Kind.ToString();
}

public enum PoolKind
{
    Max,
    Average,
}

/// <summary>Which per-sample axis a <see cref="ConcatenateLayer"/> joins.</summary>
public enum ConcatAxis
{
    /// <summary>The last Keras axis (channels for sequences, features for vectors).</summary>
    Channels,

    /// <summary>The time axis of sequences.</summary>
    Time,
}

/// <summary>One layer. Its output tensor is named <see cref="Name"/>, which is unique within the network.</summary>
public abstract record Layer
{
    public required string Name { get; init; }

    /// <summary>Tensor names read by the layer (the network input's name or earlier layers' names).</summary>
    public required IReadOnlyList<string> Inputs { get; init; }
}

public sealed record Conv1DLayer : Layer
{
    public required int Filters { get; init; }

    public required int KernelSize { get; init; }

    public int Strides { get; init; } = 1;

    public int Dilation { get; init; } = 1;

    public Padding Padding { get; init; } = Padding.Valid;

    /// <summary>Keras layout <c>(K, C_in, F)</c>, row-major.</summary>
    public required float[] Kernel { get; init; }

    public float[]? Bias { get; init; }

    public Activation Activation { get; init; } = Activation.Linear;
}

/// <summary>Dense on a vector, or on each time step of a sequence (Keras applies it to the last axis).</summary>
public sealed record DenseLayer : Layer
{
    public required int Units { get; init; }

    /// <summary>Keras layout <c>(in, out)</c>, row-major.</summary>
    public required float[] Kernel { get; init; }

    public float[]? Bias { get; init; }

    public Activation Activation { get; init; } = Activation.Linear;
}

public sealed record ActivationLayer : Layer
{
    public required Activation Activation { get; init; }
}

/// <summary>Element-wise sum of two or more equally shaped tensors.</summary>
public sealed record AddLayer : Layer;

public sealed record ConcatenateLayer : Layer
{
    public ConcatAxis Axis { get; init; } = ConcatAxis.Channels;
}

public sealed record Pool1DLayer : Layer
{
    public required PoolKind Kind { get; init; }

    public required int PoolSize { get; init; }

    public required int Strides { get; init; }

    /// <summary>Valid or Same (TensorFlow semantics: average pooling ignores the padding).</summary>
    public Padding Padding { get; init; } = Padding.Valid;
}

/// <summary>Global pooling over time: sequence → vector of channels.</summary>
public sealed record GlobalPool1DLayer : Layer
{
    public required PoolKind Kind { get; init; }
}

/// <summary>Sequence → vector in time-major order (index t·C + c), as Keras channels-last Flatten.</summary>
public sealed record FlattenLayer : Layer;

/// <summary>Inference-mode batch normalisation over channels: γ·(x − mean)/√(var + ε) + β.</summary>
public sealed record BatchNormLayer : Layer
{
    public required float[] Gamma { get; init; }

    public required float[] Beta { get; init; }

    public required float[] MovingMean { get; init; }

    public required float[] MovingVariance { get; init; }

    public double Epsilon { get; init; } = 1e-3;
}

/// <summary>Layer normalisation over the channel axis at each time step (or over a vector's features).</summary>
public sealed record LayerNormLayer : Layer
{
    public required float[] Gamma { get; init; }

    public required float[] Beta { get; init; }

    public double Epsilon { get; init; } = 1e-3;
}

/// <summary>A pass-through (Dropout and SpatialDropout1D at inference).</summary>
public sealed record IdentityLayer : Layer;
