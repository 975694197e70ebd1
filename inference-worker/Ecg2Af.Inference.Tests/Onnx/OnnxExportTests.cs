using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.Reference;

namespace Ecg2Af.Inference.Tests.Onnx;

/// <summary>
/// Each layer type lowered to ONNX and run by ONNX Runtime must agree with the managed reference pass, and a few
/// hand-computed cases pin the Keras conventions (padding sides, flatten order) independently of both.
/// </summary>
public sealed class OnnxExportTests
{
    private const int Length = 37;
    private const int Channels = 3;

    public static TheoryData<Padding, int, int, int> ConvCases()
    {
        var data = new TheoryData<Padding, int, int, int>();
        foreach (var padding in new[] { Padding.Valid, Padding.Same, Padding.Causal })
        {
            foreach (var (kernel, strides, dilation) in new[] { (1, 1, 1), (4, 1, 1), (5, 1, 1), (4, 2, 1), (5, 3, 1), (3, 1, 2), (4, 1, 3) })
            {
                data.Add(padding, kernel, strides, dilation);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ToBytes_Conv1DAnyPaddingStrideDilation_OrtMatchesReference(Padding padding, int kernel, int strides, int dilation)
    {
        var random = new Random(kernel * 100 + strides * 10 + dilation);
        var conv = new Conv1DLayer
        {
            Name = "conv", Inputs = ["x"], Filters = 4, KernelSize = kernel, Strides = strides, Dilation = dilation, Padding = padding,
            Kernel = Values(random, kernel * Channels * 4), Bias = Values(random, 4),
        };

        AssertOrtMatchesReference(Sequence(conv), random);
    }

    [Theory]
    [InlineData(PoolKind.Max, 2, 2, Padding.Valid)]
    [InlineData(PoolKind.Max, 3, 2, Padding.Valid)]
    [InlineData(PoolKind.Max, 3, 2, Padding.Same)]
    [InlineData(PoolKind.Max, 4, 3, Padding.Same)]
    [InlineData(PoolKind.Average, 2, 2, Padding.Valid)]
    [InlineData(PoolKind.Average, 3, 2, Padding.Same)]
    [InlineData(PoolKind.Average, 4, 3, Padding.Same)]
    public void ToBytes_Pool1DKindSizeStridePadding_OrtMatchesReference(PoolKind kind, int size, int strides, Padding padding)
    {
        var pool = new Pool1DLayer { Name = "pool", Inputs = ["x"], Kind = kind, PoolSize = size, Strides = strides, Padding = padding };

        AssertOrtMatchesReference(Sequence(pool), new Random(size));
    }

    public static TheoryData<ActivationKind, double> ActivationCases() => new()
    {
        { ActivationKind.Linear, 0 }, { ActivationKind.Relu, 0 }, { ActivationKind.Sigmoid, 0 }, { ActivationKind.Tanh, 0 },
        { ActivationKind.Softmax, 0 }, { ActivationKind.Swish, 0 }, { ActivationKind.GeluErf, 0 }, { ActivationKind.GeluTanh, 0 },
        { ActivationKind.Mish, 0 }, { ActivationKind.Elu, 1 }, { ActivationKind.Elu, 0.5 }, { ActivationKind.Selu, 0 },
        { ActivationKind.LeakyRelu, 0.3 }, { ActivationKind.Softplus, 0 }, { ActivationKind.Softsign, 0 },
        { ActivationKind.Lisht, 0 }, { ActivationKind.Exponential, 0 },
    };

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void ToBytes_ActivationOnSequenceAndVector_OrtMatchesReference(ActivationKind kind, double alpha)
    {
        var random = new Random((int)kind);
        var activation = new Activation(kind, alpha);
        var network = new Network
        {
            Input = new NetworkInput("x", Length, Channels),
            Layers =
            [
                new ActivationLayer { Name = "seq", Inputs = ["x"], Activation = activation },
                new FlattenLayer { Name = "flat", Inputs = ["x"] },
                new DenseLayer { Name = "dense", Inputs = ["flat"], Units = 5, Kernel = Values(random, Length * Channels * 5), Activation = activation },
            ],
            Outputs = [new NetworkOutput("seq_out", "seq"), new NetworkOutput("dense", "dense")],
        };

        AssertOrtMatchesReference(network, random, scale: 3);
    }

    [Fact]
    public void ToBytes_MixedGraphOfAllOtherLayerTypes_OrtMatchesReference()
    {
        var random = new Random(5);
        var c = Channels;
        Conv1DLayer Conv(string name, string input, int filters, int inChannels) => new()
        {
            Name = name, Inputs = [input], Filters = filters, KernelSize = 3, Padding = Padding.Same,
            Kernel = Values(random, 3 * inChannels * filters), Bias = Values(random, filters),
        };
        var network = new Network
        {
            Input = new NetworkInput("x", Length, c),
            Layers =
            [
                Conv("a", "x", c, c),
                Conv("b", "x", c, c),
                new AddLayer { Name = "sum", Inputs = ["a", "b", "x"] },
                new ConcatenateLayer { Name = "cat_c", Inputs = ["sum", "a"] },
                new ConcatenateLayer { Name = "cat_t", Inputs = ["a", "b"], Axis = ConcatAxis.Time },
                new BatchNormLayer
                {
                    Name = "bn", Inputs = ["cat_c"], Gamma = Values(random, 2 * c), Beta = Values(random, 2 * c),
                    MovingMean = Values(random, 2 * c), MovingVariance = Positive(random, 2 * c), Epsilon = 1e-3,
                },
                new LayerNormLayer { Name = "ln", Inputs = ["bn"], Gamma = Values(random, 2 * c), Beta = Values(random, 2 * c), Epsilon = 1e-3 },
                new IdentityLayer { Name = "dropout", Inputs = ["ln"] },
                new DenseLayer { Name = "per_step", Inputs = ["dropout"], Units = 4, Kernel = Values(random, 2 * c * 4), Bias = Values(random, 4) },
                new GlobalPool1DLayer { Name = "gmax", Inputs = ["per_step"], Kind = PoolKind.Max },
                new GlobalPool1DLayer { Name = "gavg", Inputs = ["cat_t"], Kind = PoolKind.Average },
                new ConcatenateLayer { Name = "pooled", Inputs = ["gmax", "gavg"] },
                new BatchNormLayer
                {
                    Name = "bn_vec", Inputs = ["pooled"], Gamma = Values(random, 4 + c), Beta = Values(random, 4 + c),
                    MovingMean = Values(random, 4 + c), MovingVariance = Positive(random, 4 + c), Epsilon = 1e-2,
                },
                new LayerNormLayer { Name = "ln_vec", Inputs = ["bn_vec"], Gamma = Values(random, 4 + c), Beta = Values(random, 4 + c) },
                new FlattenLayer { Name = "flat", Inputs = ["ln_vec"] },
                new DenseLayer { Name = "head", Inputs = ["flat"], Units = 3, Kernel = Values(random, (4 + c) * 3), Activation = new Activation(ActivationKind.Softmax) },
            ],
            Outputs = [new NetworkOutput("head", "head"), new NetworkOutput("time_joined", "cat_t"), new NetworkOutput("also_head", "head")],
        };

        AssertOrtMatchesReference(network, random);
    }

    [Fact]
    public void ToBytes_SameConvWithEvenKernel_PutsTheExtraPadOnTheRight()
    {
        // TensorFlow "same", K = 2: total pad 1, left 0, right 1, so y[t] = w0·x[t] + w1·x[t+1] and y[last] = w0·x[last].
        var network = OneChannel(new Conv1DLayer
        {
            Name = "conv", Inputs = ["x"], Filters = 1, KernelSize = 2, Padding = Padding.Same, Kernel = [10, 1],
        }, 3);

        Assert.Equal([12f, 23f, 30f], RunOrt(network, [1, 2, 3]));
        Assert.Equal([12.0, 23.0, 30.0], ReferenceForward.Run(network, [1f, 2f, 3f])["y"]);
    }

    [Fact]
    public void ToBytes_CausalConvStrideTwo_SeesOnlyThePast()
    {
        // Causal pads K − 1 = 2 on the left; stride 2 keeps t = 0, 2, 4: y[t] = w0·x[t−2] + w1·x[t−1] + w2·x[t].
        var network = OneChannel(new Conv1DLayer
        {
            Name = "conv", Inputs = ["x"], Filters = 1, KernelSize = 3, Strides = 2, Padding = Padding.Causal, Kernel = [100, 10, 1],
        }, 5);

        Assert.Equal([1f, 123f, 345f], RunOrt(network, [1, 2, 3, 4, 5]));
    }

    [Fact]
    public void ToBytes_FlattenAfterChannelFirstConvolutions_IsTimeMajor()
    {
        // Two time steps × two channels [[1, 2], [3, 4]] flatten to [1, 2, 3, 4] (index t·C + c).
        var network = new Network
        {
            Input = new NetworkInput("x", 2, 2),
            Layers =
            [
                new Conv1DLayer { Name = "conv", Inputs = ["x"], Filters = 2, KernelSize = 1, Kernel = [1, 0, 0, 1] },
                new FlattenLayer { Name = "y", Inputs = ["conv"] },
            ],
            Outputs = [new NetworkOutput("y", "y")],
        };

        Assert.Equal([1f, 2f, 3f, 4f], RunOrt(network, [1, 2, 3, 4]));
    }

    [Fact]
    public void ToBytes_SameNetworkTwice_IsByteIdentical()
    {
        var network = Sequence(new Pool1DLayer { Name = "pool", Inputs = ["x"], Kind = PoolKind.Max, PoolSize = 2, Strides = 2 });

        Assert.Equal(OnnxExport.ToBytes(network), OnnxExport.ToBytes(network));
    }

    [Fact]
    public void ToModel_DenseKernelOfWrongSize_ThrowsNamingTheLayer()
    {
        var network = new Network
        {
            Input = new NetworkInput("x", 4, 2),
            Layers =
            [
                new FlattenLayer { Name = "flat", Inputs = ["x"] },
                new DenseLayer { Name = "bad_dense", Inputs = ["flat"], Units = 3, Kernel = new float[7] },
            ],
            Outputs = [new NetworkOutput("bad_dense", "bad_dense")],
        };

        var error = Assert.Throws<InvalidOperationException>(() => OnnxExport.ToModel(network));

        Assert.Contains("bad_dense", error.Message, StringComparison.Ordinal);
    }

    private static Network Sequence(Layer layer) => new()
    {
        Input = new NetworkInput("x", Length, Channels),
        Layers = [layer],
        Outputs = [new NetworkOutput("y", layer.Name)],
    };

    private static Network OneChannel(Layer layer, int length) => new()
    {
        Input = new NetworkInput("x", length, 1),
        Layers = [layer],
        Outputs = [new NetworkOutput("y", layer.Name)],
    };

    private static float[] RunOrt(Network network, float[] input)
    {
        using var session = new OrtTestSession(OnnxExport.ToBytes(network));
        return session.Run(input, 1, network.Input.Samples, network.Input.Channels)[0].Values;
    }

    /// <summary>Runs a batch of two random inputs through ORT and each through the reference pass.</summary>
    private static void AssertOrtMatchesReference(Network network, Random random, double scale = 1)
    {
        var size = network.Input.Samples * network.Input.Channels;
        var inputs = new[] { Values(random, size, scale), Values(random, size, scale) };
        using var session = new OrtTestSession(OnnxExport.ToBytes(network));
        var results = session.Run([.. inputs[0], .. inputs[1]], 2, network.Input.Samples, network.Input.Channels);

        Assert.Equal(network.Outputs.Select(o => o.Name), results.Select(r => r.Name));
        for (var b = 0; b < 2; b++)
        {
            var reference = ReferenceForward.Run(network, inputs[b]);
            foreach (var (name, values) in results)
            {
                var expected = reference[name];
                var actual = values.AsSpan(b * expected.Length, expected.Length).ToArray();
                Assert.Equal(expected.Length * 2, values.Length);
                for (var i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])),
                        $"{name}[{b}, {i}]: reference {expected[i]}, ORT {actual[i]}");
                }
            }
        }
    }

    private static float[] Values(Random random, int count, double scale = 1) =>
        Enumerable.Range(0, count).Select(_ => (float)(((2 * random.NextDouble()) - 1) * scale)).ToArray();

    private static float[] Positive(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(0.2 + random.NextDouble())).ToArray();
}
