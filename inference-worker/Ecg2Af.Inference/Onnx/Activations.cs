namespace Ecg2Af.Inference.Onnx;

/// <summary>Constants of the Keras activation functions.</summary>
public static class Activations
{
    /// <summary>SELU α and scale (λ) as Keras defines them.</summary>
    public const double SeluAlpha = 1.6732632423543772848170429916717;

    public const double SeluScale = 1.0507009873554804934193349852946;

    /// <summary>The cubic coefficient of the tanh approximation of GELU.</summary>
    public const double GeluCubic = 0.044715;
}
