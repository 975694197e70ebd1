using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>A named load test: the kinds of request (steps, weighted), the load simulation and the pass criteria.</summary>
public sealed record Scenario
{
    public required string Name { get; init; }

    public string Description { get; init; } = "";

    public required IReadOnlyList<StepDefinition> Steps { get; init; }

    /// <summary>Phases run one after another (open or closed each).</summary>
    public required IReadOnlyList<LoadPhase> Load { get; init; }

    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    public string DescribeLoad() => string.Join("; ", Load.Select(p => p.Describe()));
}
