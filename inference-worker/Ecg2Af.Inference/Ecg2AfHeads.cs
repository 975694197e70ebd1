using Ecg2Af.Ecg;

namespace Ecg2Af.Inference;

/// <summary>
/// The ECG2AF input and output contracts (ecg2af-model.md §2, §3.1, §3.2): names, widths, activations' meaning
/// and decoding constants of the published models' heads.
/// </summary>
public static class Ecg2AfHeads
{
    public const string InputName = "input_ecg_5000_std_continuous";
    public const string AfSurvival = "output_survival_curve_af_survival_curve";
    public const string Sex2021 = "output_sex_from_wide_categorical";
    public const string Age2021 = "output_age_from_wide_csv_continuous";
    public const string AfInRead = "output_af_in_read_categorical";
    public const string Sex2024 = "output_sex_categorical";
    public const string DeathSurvival = "output_death_event_survival_curve";
    public const string AgeDays2024 = "output_age_in_days_continuous";

    /// <summary>UK Biobank age statistics ml4h's <c>age_2_wide</c> tensor map uses to rescale the 2021 age head.</summary>
    public const double AgeStd2021 = 7.554638350423902;
    public const double AgeMean2021 = 63.35798891483556;

    /// <summary>The 12-lead ECG2AF input: [N, 5000, 12], 500 Hz, global z-score.</summary>
    public static SignatureInput Input(double epsilon = 1e-6) => new()
    {
        Name = InputName,
        Samples = 5000,
        SampleRateHz = 500,
        Leads = Leads.Standard12,
        Epsilon = epsilon,
    };

    /// <summary>The 2021 quadruple-task heads in <c>model.output_names</c> order: survival, sex, age, AF in read.</summary>
    public static IReadOnlyList<SignatureOutput> Outputs2021 { get; } =
    [
        new() { Name = AfSurvival, Size = 50, Kind = HeadKind.SurvivalCurve, Role = HeadRole.AfSurvival, Bins = 25, DaysPerBin = 73 },
        new() { Name = Sex2021, Size = 2, Kind = HeadKind.Categorical, Role = HeadRole.Sex, Labels = ["female", "male"] },
        new()
        {
            Name = Age2021, Size = 1, Kind = HeadKind.Continuous, Role = HeadRole.Age,
            Scale = AgeStd2021, Offset = AgeMean2021, Unit = "years",
        },
        new() { Name = AfInRead, Size = 2, Kind = HeadKind.Categorical, Role = HeadRole.AfInEcg, Labels = ["no_af", "af"] },
    ];

    /// <summary>
    /// The 2024 quintuplet heads in their inferred order. AF and death curves use 146.1-day bins (10 years, [I]);
    /// the age head is a z-score whose cohort constants are unpublished, so it is reported unscaled.
    /// </summary>
    public static IReadOnlyList<SignatureOutput> Outputs2024 { get; } =
    [
        new() { Name = AfSurvival, Size = 50, Kind = HeadKind.SurvivalCurve, Role = HeadRole.AfSurvival, Bins = 25, DaysPerBin = 146.1 },
        new() { Name = Sex2024, Size = 2, Kind = HeadKind.Categorical, Role = HeadRole.Sex, Labels = ["female", "male"] },
        new() { Name = DeathSurvival, Size = 50, Kind = HeadKind.SurvivalCurve, Role = HeadRole.DeathSurvival, Bins = 25, DaysPerBin = 146.1 },
        new() { Name = AgeDays2024, Size = 1, Kind = HeadKind.Continuous, Role = HeadRole.None, Unit = "z" },
        new() { Name = AfInRead, Size = 2, Kind = HeadKind.Categorical, Role = HeadRole.AfInEcg, Labels = ["no_af", "af"] },
    ];
}
