using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.Inference.Serving;

/// <summary>
/// The worker's thread layout: how many inference loops run side by side and how many ONNX Runtime intra-op threads
/// each session gets, so that loops × intra-op threads never exceeds the cores (every loop can run at once).
/// <para>Default (both 0): one loop per core with one intra-op thread each, up to <see cref="MaxAutoLoops"/> loops
/// (more cores go to the loops' intra-op threads). Measured on the 2-D served graph (docs/benchmarks.md): at batch 1 a
/// second intra-op thread adds CPU time but hardly any speed (the NCHWc convolution of one ECG is one work item), and
/// at batch 4–16 two single-threaded loops give more ECGs per CPU-second than one loop with two threads.</para>
/// </summary>
public static class ThreadBudget
{
    /// <summary>Most loops the automatic layout starts: each loop holds its own session (weights and arena) per version.</summary>
    public const int MaxAutoLoops = 8;

    /// <summary>The inference loops to run: <paramref name="loops"/> when set, else the automatic layout's.</summary>
    public static int Loops(RuntimeOptions runtime, int loops, int cores)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        if (loops > 0)
        {
            return loops;
        }

        var perLoop = runtime.IntraOpThreads > 0 ? runtime.IntraOpThreads : 1;
        return Math.Clamp(cores / perLoop, 1, MaxAutoLoops);
    }

    /// <summary>
    /// The runtime options each session gets: <see cref="RuntimeOptions.IntraOpThreads"/> 0 (auto) becomes
    /// cores ÷ loops (at least 1); <paramref name="loops"/> 0 is the automatic layout (<see cref="Loops"/>). Returns an
    /// error message instead when the configuration oversubscribes the cores.
    /// </summary>
    public static (RuntimeOptions? Runtime, string? Error) Resolve(RuntimeOptions runtime, int loops, int cores)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        loops = Loops(runtime, loops, cores);
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
                "lower either, or leave both at 0 for the automatic layout.");
        }

        return (resolved, null);
    }
}
