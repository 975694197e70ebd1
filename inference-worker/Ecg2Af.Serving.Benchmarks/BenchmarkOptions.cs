using System.Globalization;

namespace Ecg2Af.Serving.Benchmarks;

/// <summary>Command-line settings (all optional): <c>--name value</c> pairs.</summary>
internal sealed record BenchmarkOptions
{
    /// <summary>Batch sizes of the raw ONNX Runtime sweep.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 4, 8, 16, 32];

    /// <summary>Measured seconds per raw measurement (after one warm-up run; at least two runs).</summary>
    public double RawSeconds { get; init; } = 8;

    /// <summary>Warm-up seconds before each HTTP phase (not measured).</summary>
    public double WarmupSeconds { get; init; } = 3;

    /// <summary>Measured seconds of each saturation and each loaded-latency phase.</summary>
    public double LoadSeconds { get; init; } = 15;

    /// <summary>Sequential requests for each unloaded latency measurement.</summary>
    public int UnloadedRequests { get; init; } = 12;

    /// <summary>Rounds of raw, saturation, unloaded and loaded measurements; the ratios are their medians.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>The offered load of the latency phase, as a fraction of the measured peak.</summary>
    public double LoadFraction { get; init; } = 0.7;

    /// <summary>Worker inference loops (the raw sweep uses as many threads, one session each).</summary>
    public int Loops { get; init; } = 1;

    /// <summary>Worker max batch size; 0: the best batch size of the raw sweep.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary><c>serving</c> (the default: raw ONNX Runtime vs the worker) or <c>batch</c> (the batch endpoint vs single records).</summary>
    public string Scenario { get; init; } = "serving";

    /// <summary>Batch scenario: records in the one batch request.</summary>
    public int Records { get; init; } = 2000;

    /// <summary>Where to write the Markdown report (besides stdout); null: stdout only.</summary>
    public string? Output { get; init; }

    /// <summary>Extra worker configuration (<c>--worker-env Section__Key=value</c>, repeatable), e.g. to compare settings.</summary>
    public IReadOnlyDictionary<string, string> WorkerEnvironment { get; init; } = new Dictionary<string, string>();

    public static BenchmarkOptions Parse(string[] args)
    {
        var options = new BenchmarkOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--batch-sizes" => options with { BatchSizes = value.Split(',').Select(Int).ToList() },
                "--raw-seconds" => options with { RawSeconds = Double(value) },
                "--warmup-seconds" => options with { WarmupSeconds = Double(value) },
                "--load-seconds" => options with { LoadSeconds = Double(value) },
                "--unloaded-requests" => options with { UnloadedRequests = Int(value) },
                "--rounds" => options with { Rounds = Int(value) },
                "--load-fraction" => options with { LoadFraction = Double(value) },
                "--loops" => options with { Loops = Int(value) },
                "--max-batch" => options with { MaxBatchSize = Int(value) },
                "--out" => options with { Output = value },
                "--scenario" => options with { Scenario = value is "serving" or "batch" ? value : throw new ArgumentException("--scenario is serving or batch.") },
                "--records" => options with { Records = Int(value) },
                "--worker-env" => options with
                {
                    WorkerEnvironment = new Dictionary<string, string>(options.WorkerEnvironment)
                    {
                        [value.Split('=', 2)[0]] = value.Split('=', 2) is [_, var setting] ? setting : throw new ArgumentException("--worker-env takes KEY=VALUE."),
                    },
                },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
            i++;
        }

        return options;
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static double Double(string s) => double.Parse(s, CultureInfo.InvariantCulture);
}
