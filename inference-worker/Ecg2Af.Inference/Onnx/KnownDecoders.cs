namespace Ecg2Af.Inference.Onnx;

/// <summary>Names written to <see cref="Provenance.Decoder"/>: which output contract a model version follows.</summary>
public static class KnownDecoders
{
    /// <summary>The four 2021 ECG2AF heads (<see cref="Ecg2AfHeads.Outputs2021"/>).</summary>
    public const string Ecg2Af2021 = "ecg2af-2021";

    /// <summary>The five 2024 ECG2AF heads (<see cref="Ecg2AfHeads.Outputs2024"/>).</summary>
    public const string Ecg2Af2024 = "ecg2af-2024";

    /// <summary>One sigmoid per label (<see cref="HeadKind.Multilabel"/>).</summary>
    public const string Multilabel = "multilabel";

    /// <summary>One softmax over labels (<see cref="HeadKind.Categorical"/>).</summary>
    public const string Softmax = "softmax";
}
