using System.Diagnostics;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;

namespace Ecg2Af.LoadTests.Bench;

/// <summary>
/// The raw ONNX Runtime ceiling: the served model file run in this process with no HTTP, no parsing and no queue,
/// one batch after another on all cores. The only part of the tool that is not black-box; it gives the denominator
/// of "how much of the model's speed does the service deliver".
/// </summary>
public sealed class Ceiling : IDisposable
{
    private readonly LoadedModel _model;

    public Ceiling(string versionDirectory) =>
        _model = LoadedModel.Load(versionDirectory, new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Auto });

    public long MacsPerEcg => _model.Signature.Provenance.MacsPerInput ?? 0;

    public string Provider => _model.Runner.ExecutionProvider;

    /// <summary>
    /// Runs batches of <paramref name="batch"/> back to back for <paramref name="duration"/> (at least two); returns
    /// ECGs per second of wall-clock time and this process's CPU time per ECG.
    /// </summary>
    public (double EcgsPerSecond, TimeSpan CpuPerEcg) Measure(int batch, TimeSpan duration)
    {
        var input = new float[batch * _model.Runner.InputLength];
        var random = new Random(batch);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((random.NextDouble() * 4) - 2);
        }

        _model.Runner.Run(input, batch);
        var runs = 0;
        var cpu = CpuTime.OfThisProcess();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration || runs < 2)
        {
            _model.Runner.Run(input, batch);
            runs++;
        }

        var ecgs = runs * batch;
        return (ecgs / watch.Elapsed.TotalSeconds, (CpuTime.OfThisProcess() - cpu) / ecgs);
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

    public void Dispose() => _model.Dispose();
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
