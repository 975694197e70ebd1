namespace Ecg2Af.Inference.Decoding;

/// <summary>The decoded outputs of one ECG. Fields a model has no head for stay null.</summary>
public sealed record PredictionResult
{
    /// <summary>Risk of incident AF within the survival head's horizon: 1 − Π y[0..bins−1].</summary>
    public RiskEstimate? AfRisk { get; init; }

    /// <summary>AF-free probability at the end of each trained bin (25 points for ECG2AF).</summary>
    public IReadOnlyList<SurvivalPoint>? SurvivalCurve { get; init; }

    /// <summary>Probability that AF is already on this ECG (the AF-in-read head).</summary>
    public double? AfInEcgProbability { get; init; }

    public SexEstimate? Sex { get; init; }

    /// <summary>The age the ECG looks like, in years.</summary>
    public double? AgeYears { get; init; }

    /// <summary>Risk of death within the death head's horizon (2024 model).</summary>
    public RiskEstimate? DeathRisk { get; init; }

    /// <summary>Per-label probabilities for classifier heads (imported multi-label or softmax models).</summary>
    public IReadOnlyDictionary<string, double>? Labels { get; init; }

    /// <summary>Heads without a product field: raw values by output name.</summary>
    public IReadOnlyDictionary<string, double[]>? OtherOutputs { get; init; }

    public IReadOnlyList<string> QualityFlags { get; init; } = [];
}

public sealed record RiskEstimate(double HorizonYears, double Probability);

public sealed record SurvivalPoint(double Day, double AfFreeProbability);

public sealed record SexEstimate(double Female, double Male);
