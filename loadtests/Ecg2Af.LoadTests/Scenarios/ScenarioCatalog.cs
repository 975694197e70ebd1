using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>Command-line overrides of a scenario's load simulation.</summary>
public sealed record LoadOverrides
{
    /// <summary>Open model at this constant rate (req/s).</summary>
    public double? Rate { get; init; }

    /// <summary>With <see cref="Rate"/>: ramp from this rate up (or down) to <see cref="Rate"/>.</summary>
    public double? RampFrom { get; init; }

    /// <summary>Closed model with this many concurrent users.</summary>
    public int? Users { get; init; }

    public TimeSpan? Duration { get; init; }

    public bool Any => Rate is not null || Users is not null || Duration is not null;

    /// <summary>The phases to run instead of <paramref name="defaults"/>.</summary>
    public IReadOnlyList<LoadPhase> Apply(IReadOnlyList<LoadPhase> defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        if (!Any)
        {
            return defaults;
        }

        var duration = Duration ?? TimeSpan.FromSeconds(defaults.Sum(p => p.During.TotalSeconds));
        if (Users is { } users)
        {
            return [new KeepConstantPhase(users, duration)];
        }

        if (Rate is { } rate)
        {
            return RampFrom is { } from ? [new RampInjectPhase(from, rate, duration)] : [new InjectPhase(rate, duration)];
        }

        // Only the duration changed: stretch or shrink every phase in proportion.
        var scale = duration.TotalSeconds / defaults.Sum(p => p.During.TotalSeconds);
        return defaults.Select(p => p switch
        {
            InjectPhase i => (LoadPhase)(i with { During = i.During * scale }),
            RampInjectPhase r => r with { During = r.During * scale },
            KeepConstantPhase k => k with { During = k.During * scale },
            _ => p,
        }).ToList();
    }
}

/// <summary>
/// The named scenarios of issue #9. Every default is sized for the 2-core development machine and bounded; the
/// command line can change rate, users and duration, and add thresholds.
/// </summary>
public static class ScenarioCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["smoke", "web-form", "oip-json", "oip-binary", "oip-grpc", "batch", "stat-mix", "spread", "saturation"];

    /// <summary>Whether the scenario needs the OIP tensor (fetched from the target before the run).</summary>
    public static bool NeedsTensor(string name) => name is "smoke" or "oip-json" or "oip-binary" or "oip-grpc";

    /// <summary>Whether the scenario calls the gateway's gRPC listener (it needs a <see cref="GrpcClientPool"/>).</summary>
    public static bool NeedsGrpc(string name) => name is "oip-grpc";

    /// <summary>Workers a self-hosted run starts for this scenario unless told otherwise.</summary>
    public static int PreferredWorkers(string name) => name == "spread" ? 3 : 2;

    /// <summary>Client source addresses the scenario spreads over unless told otherwise.</summary>
    public static int PreferredClients(string name) => name switch
    {
        "spread" or "oip-json" or "oip-binary" or "oip-grpc" => 200,
        _ => 50,
    };

    /// <param name="name">The scenario.</param>
    /// <param name="target">The gateway's HTTP address.</param>
    /// <param name="payloads">The request bodies.</param>
    /// <param name="overrides">Command-line changes to the load.</param>
    /// <param name="grpc">The gRPC clients of the gateway's gRPC listener; needed by <see cref="NeedsGrpc"/> scenarios only.</param>
    public static Scenario Create(string name, Uri target, Payloads payloads, LoadOverrides? overrides = null, GrpcClientPool? grpc = null)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        if (NeedsGrpc(name) && grpc is null)
        {
            throw new ArgumentException($"Scenario '{name}' calls the gateway's gRPC listener; give it a gRPC client pool.", nameof(grpc));
        }

        overrides ??= new LoadOverrides();
        var scenario = name switch
        {
            "smoke" => new Scenario
            {
                Name = name,
                Description = "CI smoke: web-form uploads (multipart with name and email, the real-format mix) and Open Inference Protocol binary requests through the gateway at a low constant rate.",
                Steps =
                [
                    new StepDefinition("web-form", 2, Requests.WebForm(target, payloads)),
                    new StepDefinition("oip-binary", 1, Requests.OipBinary(target, payloads)),
                ],
                Load = [new InjectPhase(2, TimeSpan.FromSeconds(15))],
                Thresholds = [T("fail_ratio <= 0"), T("ok >= 25"), T("p99 < 15s")],
            },
            "web-form" => new Scenario
            {
                Name = name,
                Description = "Browser users: web-form uploads of real ECG files in several formats, the arrival rate ramping up and then held.",
                Steps = [new StepDefinition("web-form", 1, Requests.WebForm(target, payloads))],
                Load = [new RampInjectPhase(0.5, 4, TimeSpan.FromSeconds(30)), new InjectPhase(4, TimeSpan.FromSeconds(30))],
                Thresholds = [T("fail_ratio <= 0.01"), T("p99 < 30s")],
            },
            "oip-json" => new Scenario
            {
                Name = name,
                Description = "High-concurrency API clients: Open Inference Protocol v2 inference with JSON tensors.",
                Steps = [new StepDefinition("oip-json", 1, Requests.OipJson(target, payloads))],
                Load = [new KeepConstantPhase(32, TimeSpan.FromSeconds(30))],
                Thresholds = [T("fail_ratio <= 0.01"), T("ok >= 1")],
            },
            "oip-binary" => new Scenario
            {
                Name = name,
                Description = "High-concurrency API clients: Open Inference Protocol v2 inference with the binary tensor extension.",
                Steps = [new StepDefinition("oip-binary", 1, Requests.OipBinary(target, payloads))],
                Load = [new KeepConstantPhase(32, TimeSpan.FromSeconds(30))],
                Thresholds = [T("fail_ratio <= 0.01"), T("ok >= 1")],
            },
            "oip-grpc" => new Scenario
            {
                Name = name,
                Description = "High-concurrency API clients: Open Inference Protocol v2 ModelInfer over gRPC through the gateway's gRPC listener (raw FP32 tensor), one channel per client address.",
                Steps = [GrpcRequests.ModelInfer("oip-grpc", grpc!, payloads)],
                Load = [new KeepConstantPhase(32, TimeSpan.FromSeconds(30))],
                Thresholds = [T("fail_ratio <= 0.01"), T("ok >= 1")],
            },
            "batch" => new Scenario
            {
                Name = name,
                Description = "Batch requests: four ECG records per POST /api/v1/predictions:batch (issue #10's contract).",
                Steps = [new StepDefinition("batch-4", 1, Requests.Batch(target, payloads, 4))],
                Load = [new InjectPhase(0.5, TimeSpan.FromSeconds(30))],
                Thresholds = [T("fail_ratio <= 0"), T("ok >= 10")],
            },
            "stat-mix" => new Scenario
            {
                Name = name,
                Description = "Priority mix: 10 % of uploads marked X-Ecg2Af-Priority: stat among routine ones, at a rate near saturation; stat should not be shed and should wait less.",
                Steps =
                [
                    new StepDefinition("routine", 9, Requests.WebForm(target, payloads, "routine")),
                    new StepDefinition("stat", 1, Requests.WebForm(target, payloads, "stat")),
                ],
                Load = [new InjectPhase(4, TimeSpan.FromSeconds(30))],
                Thresholds = [T("stat:fail_ratio <= 0"), T("stat:ok >= 1")],
            },
            "spread" => new Scenario
            {
                Name = name,
                Description = "Client spread: uploads from many loopback source addresses; the gateway's client-IP hash should put load on every worker.",
                Steps = [new StepDefinition("web-form", 1, Requests.WebForm(target, payloads))],
                Load = [new InjectPhase(4, TimeSpan.FromSeconds(25))],
                Thresholds = [T("fail_ratio <= 0"), T("workers >= 3"), T("destinations >= 3"), T("worker_share_min >= 0.1")],
            },
            "saturation" => new Scenario
            {
                Name = name,
                Description = "Past saturation: an arrival rate well above capacity; the service should shed load quickly (429/503) and keep the latency of admitted requests bounded.",
                Steps = [new StepDefinition("web-form", 1, Requests.WebForm(target, payloads))],
                Load = [new InjectPhase(20, TimeSpan.FromSeconds(20))],
                Thresholds = [T("ok >= 1")],
            },
            _ => throw new ArgumentException($"Unknown scenario '{name}'. Known: {string.Join(", ", Names)}."),
        };
        return scenario with { Load = overrides.Apply(scenario.Load) };
    }

    private static Threshold T(string text) => Threshold.Parse(text);
}
