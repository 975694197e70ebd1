using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.StandIn;

/// <summary>
/// Instantiates <see cref="Ml4hTemplate"/> as a <see cref="Network"/> with seeded weights. Layer names follow Keras'
/// automatic naming (<c>conv1d</c>, <c>conv1d_1</c>, …) and ml4h's explicit names (<c>embed…</c>, <c>output_…</c>).
/// </summary>
/// <remarks>
/// Initialisation keeps activations of order one on z-scored input so the heads are not saturated: convolution and
/// Dense kernels are uniform with variance <see cref="Gain"/>/fan-in and zero bias (which keeps swish activations at an
/// RMS near 1 through all layers); head kernels have standard deviation <see cref="HeadScale"/>/√fan-in (half that for
/// survival heads) and head biases put the untrained outputs where a trained ECG2AF usually sits:
/// survival y ≈ 0.99 per bin (5-year risk ≈ 0.2), AF-in-read ≈ 0.02, sex and age near their middle.
/// </remarks>
public static class Ml4hTemplateBuilder
{
    /// <summary>Variance gain of hidden kernels, found by measuring activation RMS on z-scored ECGs.</summary>
    public const double Gain = 2.5;

    /// <summary>Standard deviation of a head logit per unit of embedding RMS.</summary>
    public const double HeadScale = 0.8;

    public static Network Build(Ml4hTemplate template, int seed)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.ConvLayers.Count == 0 || template.Heads.Count == 0)
        {
            throw new ArgumentException("The template needs at least one residual convolution and one head.", nameof(template));
        }

        // Mix the seed so seeds 0, 1, 2 … do not start SplitMix64 in neighbouring states.
        var builder = new Builder(template, new SeededRandom(unchecked(((ulong)(uint)seed * 0xD1B54A32D192ED03UL) + 0x2545F4914F6CDD1DUL)));
        return builder.Build();
    }

    private sealed class Builder(Ml4hTemplate t, SeededRandom random)
    {
        private readonly List<Layer> _layers = [];
        private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
        private readonly Activation _activation = new(t.Activation, t.Activation == ActivationKind.LeakyRelu ? 0.3 : t.Activation == ActivationKind.Elu ? 1 : 0);

        public Network Build()
        {
            var x = Residual(t.InputName, t.Leads);
            var channels = t.ConvLayers[0];
            foreach (var width in t.DenseBlocks)
            {
                x = Add(new Pool1DLayer
                {
                    Name = AutoName("max_pooling1d"), Inputs = [x], Kind = PoolKind.Max, PoolSize = t.PoolSize, Strides = t.PoolSize,
                });
                x = DenseConvBlock(x, channels, width);
                channels = width;
            }

            var length = t.Samples;
            for (var i = 0; i < t.DenseBlocks.Count; i++)
            {
                length /= t.PoolSize;
            }

            x = Add(new FlattenLayer { Name = AutoName("flatten"), Inputs = [x] });
            var features = length * channels;
            (x, features) = DenseStack(x, features, t.MergeEmbed ? t.EncoderEmbedName : "embed");
            if (t.MergeEmbed)
            {
                (x, features) = DenseStack(x, features, "embed");
            }

            var outputs = new List<NetworkOutput>();
            foreach (var head in t.Heads)
            {
                Add(new DenseLayer
                {
                    Name = head.Name,
                    Inputs = [x],
                    Units = head.Units,
                    Kernel = random.Uniform(features * head.Units, HeadKernelScale(head) / Math.Sqrt(features)),
                    Bias = HeadBias(head),
                    Activation = new Activation(head.Activation),
                });
                outputs.Add(new NetworkOutput(head.Name, head.Name));
            }

            return new Network { Input = new NetworkInput(t.InputName, t.Samples, t.Leads), Layers = _layers, Outputs = outputs };
        }

        /// <summary>x₀ = A(Conv(F0, K)(input)); xᵢ = Add(Conv(F0, 1)(A(Conv(Fᵢ, K)(xᵢ₋₁))), xᵢ₋₁).</summary>
        private string Residual(string input, int inChannels)
        {
            var f0 = t.ConvLayers[0];
            var x = Activate(Conv(input, inChannels, f0, t.ConvWidth));
            for (var i = 1; i < t.ConvLayers.Count; i++)
            {
                var y = Activate(Conv(x, f0, t.ConvLayers[i], t.ConvWidth));
                var projected = Conv(y, t.ConvLayers[i], f0, 1);
                x = Add(new AddLayer { Name = AutoName("add"), Inputs = [projected, x] });
            }

            return x;
        }

        /// <summary>yᵦ = A(Conv(D, K)(hᵦ₋₁)); hᵦ = Concatenate(x, y₁ … yᵦ) for b &lt; B; the block's output is y_B.</summary>
        private string DenseConvBlock(string x, int inChannels, int width)
        {
            var h = x;
            var hChannels = inChannels;
            var ys = new List<string>();
            for (var b = 1; b <= t.BlockSize; b++)
            {
                var y = Activate(Conv(h, hChannels, width, t.ConvWidth));
                if (b == t.BlockSize)
                {
                    return y;
                }

                ys.Add(y);
                h = Add(new ConcatenateLayer { Name = AutoName("concatenate"), Inputs = [x, .. ys] });
                hChannels = inChannels + (ys.Count * width);
            }

            return h;
        }

        /// <summary>Dense → A for each width; the last Dense gets <paramref name="lastName"/>.</summary>
        private (string Tensor, int Features) DenseStack(string x, int features, string lastName)
        {
            for (var i = 0; i < t.DenseLayers.Count; i++)
            {
                var units = t.DenseLayers[i];
                var dense = Add(new DenseLayer
                {
                    Name = i == t.DenseLayers.Count - 1 ? lastName : AutoName("dense"),
                    Inputs = [x],
                    Units = units,
                    Kernel = random.Uniform(features * units, Math.Sqrt(Gain / features)),
                    Bias = new float[units],
                });
                x = Activate(dense);
                features = units;
            }

            return (x, features);
        }

        private string Conv(string x, int inChannels, int filters, int width) => Add(new Conv1DLayer
        {
            Name = AutoName("conv1d"),
            Inputs = [x],
            Filters = filters,
            KernelSize = width,
            Padding = Padding.Same,
            Kernel = random.Uniform(width * inChannels * filters, Math.Sqrt(Gain / (width * inChannels))),
            Bias = new float[filters],
        });

        private string Activate(string x) => Add(new ActivationLayer { Name = AutoName("activation"), Inputs = [x], Activation = _activation });

        /// <summary>Survival logits get half the spread: 25 bins multiply, so small per-bin changes already move the risk.</summary>
        private static double HeadKernelScale(HeadSpec head) => head.Activation == ActivationKind.Sigmoid ? HeadScale / 2 : HeadScale;

        private float[] HeadBias(HeadSpec head)
        {
            var bias = new float[head.Units];
            if (head.Activation == ActivationKind.Sigmoid)
            {
                // Per-bin survival y ≈ 0.99 (logit 4.6) with a little spread between bins.
                var jitter = random.Uniform(head.Units, 0.15);
                for (var i = 0; i < bias.Length; i++)
                {
                    bias[i] = 4.6f + jitter[i];
                }
            }
            else if (head.Name == Ecg2AfHeads.AfInRead && head.Units == 2)
            {
                bias[0] = 2f;
                bias[1] = -2f;
            }

            return bias;
        }

        private string Add(Layer layer)
        {
            _layers.Add(layer);
            return layer.Name;
        }

        private string AutoName(string prefix)
        {
            var n = _counters.GetValueOrDefault(prefix);
            _counters[prefix] = n + 1;
            return n == 0 ? prefix : $"{prefix}_{n}";
        }
    }
}
