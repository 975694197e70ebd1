using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.StandIn;

/// <summary>An output head: Keras name, width and activation.</summary>
public sealed record HeadSpec(string Name, int Units, ActivationKind Activation);

/// <summary>
/// Hyperparameters of the ml4h block-factory 1-D CNN (ecg2af-model.md §4.3). Defaults are the ml4h 2024 defaults
/// (swish, residual conv [32] width 71, dense blocks [32, 32, 32] of 3 convolutions, max pool 2, dense [256] for both the
/// encoder embed and the merge embed) with the four 2021 heads.
/// </summary>
public sealed record Ml4hTemplate
{
    public string InputName { get; init; } = Ecg2AfHeads.InputName;

    public int Samples { get; init; } = 5000;

    public int Leads { get; init; } = 12;

    /// <summary>Residual block filters; the first is F0, later ones are added back through 1×1 convolutions.</summary>
    public IReadOnlyList<int> ConvLayers { get; init; } = [32];

    /// <summary>Kernel width of every non-1×1 convolution (ml4h repeats a single <c>conv_width</c>).</summary>
    public int ConvWidth { get; init; } = 71;

    public IReadOnlyList<int> DenseBlocks { get; init; } = [32, 32, 32];

    public int BlockSize { get; init; } = 3;

    public int PoolSize { get; init; } = 2;

    public IReadOnlyList<int> DenseLayers { get; init; } = [256];

    /// <summary>
    /// True (the 2024 default): the encoder's Dense stack (last Dense <c>embed_&lt;input&gt;</c>) is followed by the
    /// merge block's own Dense stack (last Dense <c>embed</c>). False: one stack, last Dense named <c>embed</c>, as the
    /// 2021 legacy factory builds it.
    /// </summary>
    public bool MergeEmbed { get; init; } = true;

    public ActivationKind Activation { get; init; } = ActivationKind.Swish;

    public IReadOnlyList<HeadSpec> Heads { get; init; } = Heads2021;

    /// <summary>The 2021 quadruple-task heads (§3.1) in output order.</summary>
    public static IReadOnlyList<HeadSpec> Heads2021 { get; } =
    [
        new(Ecg2AfHeads.AfSurvival, 50, ActivationKind.Sigmoid),
        new(Ecg2AfHeads.Sex2021, 2, ActivationKind.Softmax),
        new(Ecg2AfHeads.Age2021, 1, ActivationKind.Linear),
        new(Ecg2AfHeads.AfInRead, 2, ActivationKind.Softmax),
    ];

    /// <summary>The 2024 quintuplet heads (§3.2) in their inferred output order.</summary>
    public static IReadOnlyList<HeadSpec> Heads2024 { get; } =
    [
        new(Ecg2AfHeads.AfSurvival, 50, ActivationKind.Sigmoid),
        new(Ecg2AfHeads.Sex2024, 2, ActivationKind.Softmax),
        new(Ecg2AfHeads.DeathSurvival, 50, ActivationKind.Sigmoid),
        new(Ecg2AfHeads.AgeDays2024, 1, ActivationKind.Linear),
        new(Ecg2AfHeads.AfInRead, 2, ActivationKind.Softmax),
    ];

    /// <summary>The name ml4h gives the encoder's last Dense: <c>embed_&lt;tensor map&gt;_&lt;interpretation&gt;</c>.</summary>
    public string EncoderEmbedName => InputName.StartsWith("input_", StringComparison.Ordinal) ? "embed_" + InputName["input_".Length..] : "embed_encoder";
}
