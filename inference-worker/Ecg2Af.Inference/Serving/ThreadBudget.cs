using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.Inference.Serving;

/// <summary>
/// Keeps ONNX Runtime from oversubscribing the CPU: every inference loop can run at the same time, so intra-op threads
/// per session × loops must not exceed the cores.
/// </summary>
public static class ThreadBudget
{
    /// <summary>
    /// The runtime options each session gets: <see cref="RuntimeOptions.IntraOpThreads"/> 0 (auto) becomes
    /// cores ÷ loops (at least 1). Returns an error message instead when the configuration oversubscribes the cores.
    /// </summary>
    public static (RuntimeOptions? Runtime, string? Error) Resolve(RuntimeOptions runtime, int loops, int cores)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        if (loops > cores)
        {
            return (null, $"Serving:InferenceLoops ({loops}) exceeds the {cores} cores available; each loop needs at least one.");
        }

        var resolved = runtime.Clone();
        if (resolved.IntraOpThreads == 0)
        {
            resolved.IntraOpThreads = Math.Max(1, cores / loops);
        }
        else if (resolved.IntraOpThreads * loops > cores)
        {
            return (null,
                $"Model:Runtime:IntraOpThreads ({resolved.IntraOpThreads}) × Serving:InferenceLoops ({loops}) exceeds the {cores} cores available; " +
                "lower either, or leave IntraOpThreads at 0 to split the cores evenly.");
        }

        return (resolved, null);
    }
}
