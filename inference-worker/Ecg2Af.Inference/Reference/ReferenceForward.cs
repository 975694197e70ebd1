using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.Reference;

/// <summary>
/// A plain float64 forward pass over a <see cref="Network"/>, one sample at a time, in the Keras channels-last layout.
/// It shares no lowering code with <see cref="OnnxExport"/> (padding, layouts and activations are written out again
/// here on purpose), so comparing the two checks the ONNX graph. It is slow (about a second per GMAC) and meant for
/// tests and for checking imports, not for serving.
/// </summary>
public static class ReferenceForward
{
    /// <summary>Runs one sample: <paramref name="input"/> is <c>[Samples, Channels]</c> row-major. Returns each output by name.</summary>
    public static IReadOnlyDictionary<string, double[]> Run(Network network, ReadOnlySpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(network);
        var spec = network.Input;
        if (input.Length != spec.Samples * spec.Channels)
        {
            throw new ArgumentException($"Input has {input.Length} values; {spec.Samples}×{spec.Channels} expected.", nameof(input));
        }

        var data = new double[input.Length];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = input[i];
        }

        var values = new Dictionary<string, Value>(StringComparer.Ordinal) { [spec.Name] = new Value(spec.Samples, spec.Channels, data) };
        foreach (var layer in network.Layers)
        {
            var inputs = layer.Inputs.Select(name => values[name]).ToArray();
            values[layer.Name] = Apply(layer, inputs);
        }

        return network.Outputs.ToDictionary(o => o.Name, o => values[o.Tensor].Data, StringComparer.Ordinal);
    }

    /// <summary>A per-sample tensor: <c>[Time, Channels]</c> row-major, or a vector when <see cref="Time"/> is null.</summary>
    private sealed record Value(int? Time, int Channels, double[] Data)
    {
        public int Length => Time ?? 1;
    }

    private static Value Apply(Layer layer, Value[] inputs)
    {
        var x = inputs[0];
        return layer switch
        {
            Conv1DLayer c => Activate(Conv(c, x), c.Activation),
            DenseLayer d => Activate(Dense(d, x), d.Activation),
            ActivationLayer a => Activate(x with { Data = (double[])x.Data.Clone() }, a.Activation),
            IdentityLayer => x,
            AddLayer => Add(inputs),
            ConcatenateLayer cat => Concatenate(cat, inputs),
            Pool1DLayer p => Pool(p, x),
            GlobalPool1DLayer g => GlobalPool(g, x),
            FlattenLayer => new Value(null, x.Data.Length, x.Data),
            BatchNormLayer bn => BatchNorm(bn, x),
            LayerNormLayer ln => LayerNorm(ln, x),
            _ => throw new NotSupportedException($"Layer type {layer.GetType().Name} is not supported by the reference pass."),
        };
    }

    private static Value Conv(Conv1DLayer c, Value x)
    {
        int length = x.Time!.Value, cin = x.Channels, k = c.KernelSize, f = c.Filters, s = c.Strides, d = c.Dilation;
        var reach = d * (k - 1);
        int outLength, padLeft;
        if (c.Padding == Padding.Valid)
        {
            outLength = ((length - reach - 1) / s) + 1;
            padLeft = 0;
        }
        else if (c.Padding == Padding.Causal)
        {
            outLength = (length + s - 1) / s;
            padLeft = reach;
        }
        else
        {
            // TensorFlow "same": the output has ceil(L / s) steps and the smaller half of the padding goes left.
            outLength = (length + s - 1) / s;
            var needed = ((outLength - 1) * s) + reach + 1;
            padLeft = Math.Max(needed - length, 0) / 2;
        }

        var kernel = Array.ConvertAll(c.Kernel, v => (double)v);
        var output = new double[outLength * f];
        for (var t = 0; t < outLength; t++)
        {
            var acc = output.AsSpan(t * f, f);
            if (c.Bias is not null)
            {
                for (var j = 0; j < f; j++)
                {
                    acc[j] = c.Bias[j];
                }
            }

            for (var tap = 0; tap < k; tap++)
            {
                var source = (t * s) + (tap * d) - padLeft;
                if (source < 0 || source >= length)
                {
                    continue;
                }

                for (var ci = 0; ci < cin; ci++)
                {
                    var xv = x.Data[(source * cin) + ci];
                    var row = kernel.AsSpan(((tap * cin) + ci) * f, f);
                    for (var j = 0; j < f; j++)
                    {
                        acc[j] += xv * row[j];
                    }
                }
            }
        }

        return new Value(outLength, f, output);
    }

    private static Value Dense(DenseLayer d, Value x)
    {
        int steps = x.Length, inputs = x.Channels, units = d.Units;
        var output = new double[steps * units];
        for (var t = 0; t < steps; t++)
        {
            var acc = output.AsSpan(t * units, units);
            for (var j = 0; j < units; j++)
            {
                acc[j] = d.Bias?[j] ?? 0;
            }

            for (var i = 0; i < inputs; i++)
            {
                var xv = x.Data[(t * inputs) + i];
                var row = d.Kernel.AsSpan(i * units, units);
                for (var j = 0; j < units; j++)
                {
                    acc[j] += xv * row[j];
                }
            }
        }

        return x with { Channels = units, Data = output };
    }

    private static Value Add(Value[] inputs)
    {
        var sum = (double[])inputs[0].Data.Clone();
        foreach (var other in inputs.Skip(1))
        {
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += other.Data[i];
            }
        }

        return inputs[0] with { Data = sum };
    }

    private static Value Concatenate(ConcatenateLayer cat, Value[] inputs)
    {
        if (cat.Axis == ConcatAxis.Time)
        {
            return new Value(inputs.Sum(v => v.Time!.Value), inputs[0].Channels, inputs.SelectMany(v => v.Data).ToArray());
        }

        var steps = inputs[0].Length;
        var channels = inputs.Sum(v => v.Channels);
        var output = new double[steps * channels];
        for (var t = 0; t < steps; t++)
        {
            var offset = t * channels;
            foreach (var v in inputs)
            {
                Array.Copy(v.Data, t * v.Channels, output, offset, v.Channels);
                offset += v.Channels;
            }
        }

        return inputs[0] with { Channels = channels, Data = output };
    }

    private static Value Pool(Pool1DLayer p, Value x)
    {
        int length = x.Time!.Value, c = x.Channels, size = p.PoolSize, s = p.Strides;
        int outLength, padLeft = 0;
        if (p.Padding == Padding.Valid)
        {
            outLength = ((length - size) / s) + 1;
        }
        else
        {
            outLength = (length + s - 1) / s;
            padLeft = Math.Max(((outLength - 1) * s) + size - length, 0) / 2;
        }

        var output = new double[outLength * c];
        for (var t = 0; t < outLength; t++)
        {
            for (var ch = 0; ch < c; ch++)
            {
                double max = double.NegativeInfinity, sum = 0;
                var count = 0;
                for (var w = 0; w < size; w++)
                {
                    var source = (t * s) + w - padLeft;
                    if (source < 0 || source >= length)
                    {
                        continue;
                    }

                    var v = x.Data[(source * c) + ch];
                    max = Math.Max(max, v);
                    sum += v;
                    count++;
                }

                output[(t * c) + ch] = p.Kind == PoolKind.Max ? max : sum / count;
            }
        }

        return new Value(outLength, c, output);
    }

    private static Value GlobalPool(GlobalPool1DLayer g, Value x)
    {
        int length = x.Time!.Value, c = x.Channels;
        var output = new double[c];
        for (var ch = 0; ch < c; ch++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (var t = 0; t < length; t++)
            {
                var v = x.Data[(t * c) + ch];
                max = Math.Max(max, v);
                sum += v;
            }

            output[ch] = g.Kind == PoolKind.Max ? max : sum / length;
        }

        return new Value(null, c, output);
    }

    private static Value BatchNorm(BatchNormLayer bn, Value x)
    {
        var output = new double[x.Data.Length];
        for (var i = 0; i < output.Length; i++)
        {
            var ch = i % x.Channels;
            output[i] = (bn.Gamma[ch] * (x.Data[i] - bn.MovingMean[ch]) / Math.Sqrt(bn.MovingVariance[ch] + bn.Epsilon)) + bn.Beta[ch];
        }

        return x with { Data = output };
    }

    private static Value LayerNorm(LayerNormLayer ln, Value x)
    {
        var c = x.Channels;
        var output = new double[x.Data.Length];
        for (var t = 0; t < x.Length; t++)
        {
            var row = x.Data.AsSpan(t * c, c);
            double mean = 0, variance = 0;
            foreach (var v in row)
            {
                mean += v;
            }

            mean /= c;
            foreach (var v in row)
            {
                variance += (v - mean) * (v - mean);
            }

            variance /= c;
            for (var ch = 0; ch < c; ch++)
            {
                output[(t * c) + ch] = (ln.Gamma[ch] * (row[ch] - mean) / Math.Sqrt(variance + ln.Epsilon)) + ln.Beta[ch];
            }
        }

        return x with { Data = output };
    }

    /// <summary>Applies the activation in place (the value passed in is never shared).</summary>
    private static Value Activate(Value x, Activation activation)
    {
        var data = x.Data;
        if (activation.Kind == ActivationKind.Softmax)
        {
            var c = x.Channels;
            for (var t = 0; t < x.Length; t++)
            {
                var row = data.AsSpan(t * c, c);
                var max = double.NegativeInfinity;
                foreach (var v in row)
                {
                    max = Math.Max(max, v);
                }

                double sum = 0;
                for (var ch = 0; ch < c; ch++)
                {
                    row[ch] = Math.Exp(row[ch] - max);
                    sum += row[ch];
                }

                for (var ch = 0; ch < c; ch++)
                {
                    row[ch] /= sum;
                }
            }

            return x;
        }

        for (var i = 0; i < data.Length; i++)
        {
            data[i] = Scalar(activation, data[i]);
        }

        return x;
    }

    private static double Scalar(Activation activation, double x) => activation.Kind switch
    {
        ActivationKind.Linear => x,
        ActivationKind.Relu => Math.Max(x, 0),
        ActivationKind.Sigmoid => Sigmoid(x),
        ActivationKind.Tanh => Math.Tanh(x),
        ActivationKind.Swish => x * Sigmoid(x),
        ActivationKind.GeluErf => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        ActivationKind.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (Activations.GeluCubic * x * x * x)))),
        ActivationKind.Mish => x * Math.Tanh(Softplus(x)),
        ActivationKind.Elu => x > 0 ? x : activation.Alpha * (Math.Exp(x) - 1),
        ActivationKind.Selu => Activations.SeluScale * (x > 0 ? x : Activations.SeluAlpha * (Math.Exp(x) - 1)),
        ActivationKind.LeakyRelu => x > 0 ? x : activation.Alpha * x,
        ActivationKind.Softplus => Softplus(x),
        ActivationKind.Softsign => x / (1 + Math.Abs(x)),
        ActivationKind.Lisht => x * Math.Tanh(x),
        ActivationKind.Exponential => Math.Exp(x),
        _ => throw new NotSupportedException($"Activation {activation} is not supported by the reference pass."),
    };

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));

    /// <summary>
    /// The error function to about 1e-14: its Maclaurin series for |x| &lt; 2.5, and the classical continued fraction
    /// for erfc beyond (.NET has no Math.Erf).
    /// </summary>
    internal static double Erf(double x)
    {
        var a = Math.Abs(x);
        if (a < 2.5)
        {
            // erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
            double term = a, sum = a;
            for (var n = 1; n < 100 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -a * a / n;
                sum += term / ((2 * n) + 1);
            }

            return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
        }

        if (a > 6)
        {
            return Math.Sign(x);
        }

        // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))), evaluated from the tail.
        var fraction = a;
        for (var n = 60; n >= 1; n--)
        {
            fraction = a + (n / 2.0 / fraction);
        }

        var erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction;
        return Math.Sign(x) * (1 - erfc);
    }
}
