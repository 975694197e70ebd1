namespace Ecg2Af.Inference.Decoding;

/// <summary>
/// Turns raw head outputs into a <see cref="PredictionResult"/> per the model signature (ecg2af-model.md §3):
/// survival heads → risk = 1 − Π y[0..bins−1] (in float64) and the AF-free curve; softmax heads by label;
/// continuous heads through their affine back-transform.
/// </summary>
public static class PredictionDecoder
{
    /// <summary>Quality flag raised when the AF-in-ECG probability says the incident-risk estimate is out of scope.</summary>
    public const string AfPresentFlag = "af_on_ecg_incident_risk_not_valid";

    /// <param name="signature">The model's signature.</param>
    /// <param name="outputs">One array per head in signature order, each holding at least (index + 1) × size values.</param>
    /// <param name="index">The batch item to decode.</param>
    public static PredictionResult Decode(ModelSignature signature, IReadOnlyList<float[]> outputs, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(outputs);
        var result = new PredictionResult();
        var labels = new Dictionary<string, double>(StringComparer.Ordinal);
        var other = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var flags = new List<string>();
        for (var h = 0; h < signature.Outputs.Count; h++)
        {
            var head = signature.Outputs[h];
            var values = outputs[h].AsSpan(index * head.Size, head.Size);
            switch (head.Role)
            {
                case HeadRole.AfSurvival:
                    var (risk, curve) = Survival(head, values);
                    result = result with { AfRisk = risk, SurvivalCurve = curve };
                    break;
                case HeadRole.DeathSurvival:
                    result = result with { DeathRisk = Survival(head, values).Risk };
                    break;
                case HeadRole.Sex:
                    result = result with { Sex = Sex(values[LabelIndex(head, "female")], values[LabelIndex(head, "male")]) };
                    break;
                case HeadRole.Age:
                    result = result with { AgeYears = (values[0] * (head.Scale ?? 1)) + (head.Offset ?? 0) };
                    break;
                case HeadRole.AfInEcg:
                    var af = (double)values[LabelIndex(head, "af")];
                    result = result with { AfInEcgProbability = af };
                    if (af >= 0.5)
                    {
                        flags.Add(AfPresentFlag);
                    }

                    break;
                case HeadRole.Labels:
                    var names = head.Labels ?? throw new InvalidOperationException($"Head {head.Name} has role labels but no label names.");
                    for (var i = 0; i < head.Size; i++)
                    {
                        labels[names[i]] = values[i];
                    }

                    break;
                default:
                    other[head.Name] = values.ToArray().Select(v => (double)v).ToArray();
                    break;
            }
        }

        return result with
        {
            Labels = labels.Count > 0 ? labels : null,
            OtherOutputs = other.Count > 0 ? other : null,
            QualityFlags = flags,
        };
    }

    /// <summary>
    /// The two-way softmax renormalised in float64: float32 outputs sum to 1 only within float32 rounding, and a client
    /// adding the two probabilities should get 1.
    /// </summary>
    internal static SexEstimate Sex(float female, float male)
    {
        var total = (double)female + male;
        if (!(total > 0))
        {
            return new SexEstimate(female, male);
        }

        var f = female / total;
        return new SexEstimate(f, 1 - f);
    }

    /// <summary>Risk and curve from a survival head: S_k = Π_{i≤k} y[i] at day (k + 1) × days per bin.</summary>
    internal static (RiskEstimate Risk, IReadOnlyList<SurvivalPoint> Curve) Survival(SignatureOutput head, ReadOnlySpan<float> y)
    {
        var bins = head.Bins ?? (head.Size / 2);
        var daysPerBin = head.DaysPerBin ?? throw new InvalidOperationException($"Survival head {head.Name} has no days_per_bin.");
        var curve = new SurvivalPoint[bins];
        double survival = 1;
        for (var k = 0; k < bins; k++)
        {
            survival *= y[k];
            curve[k] = new SurvivalPoint(Math.Round((k + 1) * daysPerBin, 1), survival);
        }

        var horizonYears = Math.Round(bins * daysPerBin / 365.25, 1);
        return (new RiskEstimate(horizonYears, 1 - survival), curve);
    }

    private static int LabelIndex(SignatureOutput head, string label)
    {
        var index = head.Labels?.ToList().FindIndex(l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase)) ?? -1;
        return index >= 0 ? index : throw new InvalidOperationException($"Head {head.Name} has no label '{label}'.");
    }
}
