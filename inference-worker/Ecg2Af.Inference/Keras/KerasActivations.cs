using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.Keras;

/// <summary>Keras and tensorflow-addons activation names → <see cref="Activation"/> (ecg2af-model.md §4.4).</summary>
internal static class KerasActivations
{
    /// <summary>Returns null for names this importer does not support.</summary>
    public static Activation? Parse(string name)
    {
        var addons = name.StartsWith("Addons>", StringComparison.Ordinal);
        var key = (addons ? name["Addons>".Length..] : name).ToLowerInvariant();
        return key switch
        {
            "linear" or "identity" => Activation.Linear,
            "relu" => new Activation(ActivationKind.Relu),
            "sigmoid" => new Activation(ActivationKind.Sigmoid),
            "tanh" => new Activation(ActivationKind.Tanh),
            "softmax" => new Activation(ActivationKind.Softmax),
            "swish" or "silu" => new Activation(ActivationKind.Swish),
            // Keras' gelu defaults to the exact erf form; tensorflow-addons' gelu defaults to approximate=True.
            "gelu" => new Activation(addons ? ActivationKind.GeluTanh : ActivationKind.GeluErf),
            "mish" => new Activation(ActivationKind.Mish),
            "elu" => new Activation(ActivationKind.Elu, 1),
            "selu" => new Activation(ActivationKind.Selu),
            // keras.activations.leaky_relu defaults to negative_slope 0.2 (the LeakyReLU layer's default is 0.3).
            "leaky_relu" => new Activation(ActivationKind.LeakyRelu, 0.2),
            "softplus" => new Activation(ActivationKind.Softplus),
            "softsign" => new Activation(ActivationKind.Softsign),
            "exponential" => new Activation(ActivationKind.Exponential),
            "lisht" => new Activation(ActivationKind.Lisht),
            _ => null,
        };
    }
}
