namespace Ecg2Af.Inference.Onnx;

/// <summary>Parameter count and multiply-accumulates of one forward pass, per input sample.</summary>
public readonly record struct ModelCost(long Parameters, long MacsPerInput)
{
    /// <summary>
    /// Counts as ecg2af-model.md §4.5 does: every stored weight (Keras <c>count_params</c>, BatchNorm moving statistics
    /// included); MACs are Σ L_out·K·C_in·F over convolutions plus Σ in·out (per time step) over Dense layers.
    /// Activations, pooling and normalisation are not counted.
    /// </summary>
    public static ModelCost Of(Network network)
    {
        var shapes = NetworkShapes.Infer(network);
        long parameters = 0;
        long macs = 0;
        foreach (var layer in network.Layers)
        {
            var input = shapes[layer.Inputs[0]];
            var output = shapes[layer.Name];
            switch (layer)
            {
                case Conv1DLayer c:
                    parameters += c.Kernel.Length + (c.Bias?.Length ?? 0);
                    macs += (long)output.Time!.Value * c.KernelSize * input.Channels * c.Filters;
                    break;
                case DenseLayer d:
                    parameters += d.Kernel.Length + (d.Bias?.Length ?? 0);
                    macs += (long)(input.Time ?? 1) * input.Channels * d.Units;
                    break;
                case BatchNormLayer bn:
                    parameters += 4L * bn.Gamma.Length;
                    break;
                case LayerNormLayer ln:
                    parameters += 2L * ln.Gamma.Length;
                    break;
                default:
                    break;
            }
        }

        return new ModelCost(parameters, macs);
    }
}
