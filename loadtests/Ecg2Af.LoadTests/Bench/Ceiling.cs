using System.Diagnostics;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.LoadTests.Bench;

/// <summary>
/// The raw ONNX Runtime ceiling: the served model file run in this process with no HTTP, no parsing and no queue,
/// one batch after another on all cores, with the worker's default thread layout (<see cref="ThreadBudget"/>: one session
/// per inference loop, each on its own thread, all at once). The only part of the tool that is not black-box; it gives
/// the denominator of "how much of the model's speed does the service deliver". Constructed with <c>conv1DAs2D: false</c> it runs
/// <c>model.onnx</c> as stored (the 1-D graph) instead of the served 2-D rewrite.
/// </summary>
public sealed class Ceiling : IDisposable
{
    private readonly LoadedModel[] _sessions;
    private readonly LoadedModel _model;

    public Ceiling(string versionDirectory, bool conv1DAs2D = true)
    {
        var runtime = new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Auto, Conv1DAs2D = conv1DAs2D };
        var loops = ThreadBudget.Loops(runtime, 0, Environment.ProcessorCount);
        var (layout, error) = ThreadBudget.Resolve(runtime, loops, Environment.ProcessorCount);
        var resolved = layout ?? throw new InvalidOperationException(error);
        _sessions = Enumerable.Range(0, loops).Select(_ => LoadedModel.Load(versionDirectory, resolved)).ToArray();
        _model = _sessions[0];
        Layout = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{loops} session(s) × {resolved.IntraOpThreads} intra-op thread(s), {(_model.Graph.Rewrite ?? "1-D graph as stored")}");
    }

    public long MacsPerEcg => _model.Signature.Provenance.MacsPerInput ?? 0;

    public string Provider => _model.Runner.ExecutionProvider;

    /// <summary>Sessions × threads and the graph, for the report.</summary>
    public string Layout { get; }

    /// <summary>
    /// Runs batches of <paramref name="batch"/> back to back on every session at once for <paramref name="duration"/>
    /// (at least two per session); returns ECGs per second of wall-clock time and this process's CPU time per ECG.
    /// </summary>
    public (double EcgsPerSecond, TimeSpan CpuPerEcg) Measure(int batch, TimeSpan duration)
    {
        var input = new float[batch * _model.Runner.InputLength];
        var random = new Random(batch);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((random.NextDouble() * 4) - 2);
        }

        foreach (var session in _sessions)
        {
            session.Runner.Run(input, batch);
        }

        var runs = 0;
        var cpu = CpuTime.OfThisProcess();
        var watch = Stopwatch.StartNew();
        var threads = _sessions.Select(session => new Thread(() =>
        {
            for (var own = 0; watch.Elapsed < duration || own < 2; own++)
            {
                session.Runner.Run(input, batch);
                Interlocked.Increment(ref runs);
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        var elapsed = watch.Elapsed;
        var ecgs = runs * batch;
        return (ecgs / elapsed.TotalSeconds, (CpuTime.OfThisProcess() - cpu) / ecgs);
    }

    /// <summary>The version folder the workers serve: the highest numeric version under <c>&lt;repo&gt;/ecg2af</c>.</summary>
    public static string ServedVersion(string repository, string model = "ecg2af")
    {
        var folder = Path.Combine(repository, model);
        return Directory.EnumerateDirectories(folder)
            .Where(d => File.Exists(Path.Combine(d, "model.onnx")))
            .OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : -1)
            .LastOrDefault() ?? throw new DirectoryNotFoundException($"No model version under {folder}.");
    }

    public void Dispose()
    {
        foreach (var session in _sessions)
        {
            session.Dispose();
        }
    }
}

/// <summary>CPU time (user + system) a process has used so far: contention from other tenants barely changes it.</summary>
public static class CpuTime
{
    public static TimeSpan OfThisProcess()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    public static TimeSpan Of(int processId)
    {
        using var process = Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }
}
