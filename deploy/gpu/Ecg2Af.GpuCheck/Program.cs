using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Ecg2Af.Ecg;
using Ecg2Af.GpuCheck;
using Ecg2Af.Inference;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.StandIn;
using Microsoft.ML.OnnxRuntime;

// ecg2af-gpucheck: the in-process half of deploy/gpu/check.sh. `--provider cpu` runs every step on the CPU (with
// the CPU session padded like a GPU one), so the program can be proven on a machine without a GPU.
var provider = new Option<string>("--provider") { Description = "cuda (the check) or cpu (every step on the CPU, to prove the program).", DefaultValueFactory = _ => "cuda" };
var model = new Option<string?>("--model") { Description = "Model version folder (model.onnx + model.json); default: the stand-in, built under --out." };
var samples = new Option<string>("--samples") { Description = "Folder of real ECG files (recursively).", DefaultValueFactory = _ => "../shared/ecg-samples" };
var sizes = new Option<string>("--sizes") { Description = "Batch sizes to sweep, comma-separated.", DefaultValueFactory = _ => "1,2,4,8,16,32,64,128,256" };
var seconds = new Option<double>("--seconds") { Description = "Timed seconds per batch size.", DefaultValueFactory = _ => 3 };
var minRuns = new Option<int>("--min-runs") { Description = "Timed runs per batch size at least.", DefaultValueFactory = _ => 5 };
var cpuSizes = new Option<string>("--cpu-sizes") { Description = "Batch sizes of the CPU comparison sweep.", DefaultValueFactory = _ => "1,16" };
var cpuSeconds = new Option<double>("--cpu-seconds") { Description = "Timed seconds per CPU batch size.", DefaultValueFactory = _ => 3 };
var maxEcgs = new Option<int>("--max-ecgs") { Description = "Real ECGs compared GPU against CPU at most.", DefaultValueFactory = _ => 16 };
var output = new Option<string>("--out") { Description = "Report folder (report.md, result.json, the ONNX Runtime profile).", DefaultValueFactory = _ => "gpucheck-out" };

var root = new RootCommand("ecg2af-gpucheck: ONNX Runtime placement, GPU-vs-CPU outputs on real ECGs and a batch-size sweep of the served model.")
{
    provider, model, samples, sizes, seconds, minRuns, cpuSizes, cpuSeconds, maxEcgs, output,
};
root.SetAction(parse =>
{
    var cuda = parse.GetValue(provider) switch
    {
        "cuda" => true,
        "cpu" => false,
        var other => throw new ArgumentException($"--provider must be cuda or cpu, not {other}."),
    };
    var outFolder = Directory.CreateDirectory(parse.GetValue(output)!).FullName;
    var sweepSizes = Sizes(parse.GetValue(sizes)!);
    var versionFolder = parse.GetValue(model) ?? Path.Combine(outFolder, "model", "ecg2af", "1");
    if (!File.Exists(Path.Combine(versionFolder, ModelFiles.Onnx)))
    {
        StandInModel.Write(versionFolder);
    }

    var onnx = Path.Combine(versionFolder, ModelFiles.Onnx);
    var signature = ModelSignature.Load(Path.Combine(versionFolder, ModelFiles.Signature));
    var report = new Report(cuda ? "cuda" : "cpu (program check; no GPU)");
    var memoryBefore = Gpu.Memory();

    var runtime = new RuntimeOptions { ExecutionProvider = cuda ? ExecutionProviderPreference.Cuda : ExecutionProviderPreference.Cpu };

    // The served runner first: on a machine where CUDA cannot run, this is where the worker would refuse, with the
    // classified reason.
    var batching = new BatchShapes(sweepSizes[^1], sweepSizes);
    var loadStart = Stopwatch.GetTimestamp();
    OnnxModelRunner checkedRunner;
    try
    {
        checkedRunner = OnnxModelRunner.Load(onnx, signature, runtime.WithBatching(batching));
    }
    catch (ModelLoadException e)
    {
        Console.Error.WriteLine($"ecg2af-gpucheck: the session cannot run: {e.Message}");
        return 4;
    }

    using var served = checkedRunner;
    var loadTime = Stopwatch.GetElapsedTime(loadStart);
    using var reference = OnnxModelRunner.Load(onnx, signature, new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });

    // 1. Placement, from ONNX Runtime's own profile.
    var placement = Placement.Measure(onnx, signature, runtime, cuda, outFolder);
    report.Placement(placement, cuda ? "CUDAExecutionProvider" : "CPUExecutionProvider");

    // 2. Outputs on real ECGs: the checked session (padded to the sweep sizes) against an unpadded CPU session.
    var ecgs = RealEcgs(parse.GetValue(samples)!, signature, parse.GetValue(maxEcgs));
    if (ecgs.Count == 0)
    {
        throw new InvalidOperationException($"No readable ECG under {parse.GetValue(samples)}.");
    }

    if (checkedRunner.ExecutionProvider != (cuda ? OnnxModelRunner.Cuda : OnnxModelRunner.Cpu))
    {
        throw new InvalidOperationException($"The checked session runs on {checkedRunner.ExecutionProvider}.");
    }

    report.Accuracy(Compare(reference, checkedRunner, ecgs), ecgs.Count);

    // 3. The sweep, then the CPU's figures in the same run for the ratio.
    var points = Sweep.Run(checkedRunner, ecgs[0].Data, sweepSizes, TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(minRuns));
    var memoryAfter = Gpu.Memory();
    IReadOnlyList<Sweep.Point> cpuPoints = [];
    if (cuda)
    {
        var cpuBatch = Sizes(parse.GetValue(cpuSizes)!);
        using var cpu = OnnxModelRunner.Load(onnx, signature, new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu }
            .WithBatching(new BatchShapes(cpuBatch[^1], cpuBatch)));
        cpuPoints = Sweep.Run(cpu, ecgs[0].Data, cpuBatch, TimeSpan.FromSeconds(parse.GetValue(cpuSeconds)), parse.GetValue(minRuns));
    }

    report.Sweep(points, cpuPoints, loadTime, checkedRunner.WarmedUpBatchSizes, checkedRunner.UsesIoBinding);
    report.Memory(memoryBefore, memoryAfter);
    File.WriteAllText(Path.Combine(outFolder, "report.md"), report.Markdown());
    File.WriteAllText(Path.Combine(outFolder, "result.json"), JsonSerializer.Serialize(report.Summary(), new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine(report.Markdown());
    return report.ChecksPassed ? 0 : 3;
});
return root.Parse(args).Invoke();

static int[] Sizes(string text)
{
    var sizes = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
    if (sizes.Length == 0 || BatchShapes.Validate(sizes[^1], sizes) is { } error)
    {
        throw new ArgumentException($"Batch sizes '{text}': increasing positive integers expected.");
    }

    return sizes;
}

// Every record under the folder the product can read (WFDB parts grouped by name), in file-name order.
static List<(string Name, float[] Data)> RealEcgs(string folder, ModelSignature signature, int max)
{
    var ecgs = new List<(string, float[])>();
    var groups = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
        .GroupBy(f => Path.Combine(Path.GetDirectoryName(f)!, Path.GetFileNameWithoutExtension(f)), StringComparer.Ordinal)
        .OrderBy(g => g.Key, StringComparer.Ordinal);
    foreach (var group in groups)
    {
        if (ecgs.Count >= max)
        {
            break;
        }

        try
        {
            var files = group.Select(f => new EcgFile(Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
            ecgs.Add((Path.GetRelativePath(folder, group.Key), ScoringPipeline.Prepare(files, EcgReadOptions.Default, signature).Prepared.Data));
        }
        catch (Exception e) when (e is EcgFormatException or InvalidDataException or ArgumentException)
        {
            // Not a record the product reads on its own (a header without its signal file, say).
        }
    }

    return ecgs;
}

// Largest |GPU − CPU| per head over every ECG, once alone (batch 1) and once all together (a padded batch).
static double[] Compare(OnnxModelRunner cpu, OnnxModelRunner other, List<(string Name, float[] Data)> ecgs)
{
    var sizes = cpu.Signature.Outputs.Select(o => o.Size).ToArray();
    var worst = new double[sizes.Length];
    var together = new float[ecgs.Count * cpu.InputLength];
    for (var i = 0; i < ecgs.Count; i++)
    {
        ecgs[i].Data.CopyTo(together, i * cpu.InputLength);
    }

    var batch = ecgs.Count <= (other.PaddedBatchSizes?[^1] ?? int.MaxValue) ? other.Run(together, ecgs.Count) : null;
    for (var i = 0; i < ecgs.Count; i++)
    {
        var expected = cpu.Run(ecgs[i].Data, 1);
        var alone = other.Run(ecgs[i].Data, 1);
        for (var h = 0; h < sizes.Length; h++)
        {
            for (var k = 0; k < sizes[h]; k++)
            {
                worst[h] = Math.Max(worst[h], Math.Abs(expected[h][k] - alone[h][k]));
                if (batch is not null)
                {
                    worst[h] = Math.Max(worst[h], Math.Abs(expected[h][k] - batch[h][(i * sizes[h]) + k]));
                }
            }
        }
    }

    return worst;
}

/// <summary>nvidia-smi's memory figures, when there is one.</summary>
internal static class Gpu
{
    public static string? Memory()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", ["--query-gpu=name,driver_version,memory.used,memory.total", "--format=csv,noheader"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var text = smi.StandardOutput.ReadToEnd().Trim();
            smi.WaitForExit();
            return smi.ExitCode == 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>The check's findings, as Markdown for docs/benchmarks.md and as JSON for check.sh.</summary>
internal sealed class Report(string provider)
{
    public const double Tolerance = 1e-4;

    private readonly StringBuilder _md = new();
    private readonly Dictionary<string, object?> _summary = new(StringComparer.Ordinal) { ["provider"] = provider };

    public bool ChecksPassed { get; private set; } = true;

    public void Placement(Placement.Result placement, string wanted)
    {
        var total = placement.KernelsByProvider.Values.Sum();
        var on = placement.KernelsByProvider.GetValueOrDefault(wanted);
        _summary["kernels_total"] = total;
        _summary["kernels_on_provider"] = on;
        _summary["ops_off_provider"] = placement.OffProviderOps;
        var ok = total > 0 && on == total;
        ChecksPassed &= ok;
        _md.AppendLine(CultureInfo.InvariantCulture, $"## Placement (ONNX Runtime profile)\n");
        _md.AppendLine(CultureInfo.InvariantCulture, $"Kernels per provider over 3 runs: {string.Join(", ", placement.KernelsByProvider.Select(p => $"{p.Key} {p.Value}"))}. " +
            $"All on {wanted}: **{(ok ? "yes" : "no")}**{(placement.OffProviderOps.Count > 0 ? $" (off: {string.Join(", ", placement.OffProviderOps)})" : "")}.");
        foreach (var line in placement.Log.Take(5))
        {
            _md.AppendLine(CultureInfo.InvariantCulture, $"- ORT log: `{line.Replace('`', '\'').ReplaceLineEndings(" ")[..Math.Min(line.Length, 300)]}`");
        }

        _md.AppendLine();
    }

    public void Accuracy(double[] worst, int ecgs)
    {
        var max = worst.Max();
        _summary["max_abs_delta"] = max;
        _summary["ecgs_compared"] = ecgs;
        ChecksPassed &= max <= Tolerance;
        _md.AppendLine(CultureInfo.InvariantCulture, $"## Outputs against the CPU\n\n{ecgs} real ECGs, alone and as one padded batch: max |Δ| per head " +
            $"{string.Join(", ", worst.Select(w => w.ToString("E2", CultureInfo.InvariantCulture)))}; overall **{max:E2}** (≤ {Tolerance:E0}: {(max <= Tolerance ? "yes" : "NO")}).\n");
    }

    public void Sweep(IReadOnlyList<Sweep.Point> points, IReadOnlyList<Sweep.Point> cpu, TimeSpan load, IReadOnlyList<int> warmed, bool ioBinding)
    {
        var best = points.MaxBy(p => p.EcgsPerSecond)!;
        _summary["best_batch"] = best.BatchSize;
        _summary["best_ecgs_per_second"] = best.EcgsPerSecond;
        _summary["first_over_p50_max"] = points.Max(p => p.FirstMs / p.P50Ms);
        _md.AppendLine(CultureInfo.InvariantCulture, $"## Batch sweep\n\nSession load with warm-up at {string.Join(",", warmed)}: {load.TotalSeconds:F1} s; IOBinding with pinned buffers: {(ioBinding ? "yes" : "no")}.\n");
        _md.AppendLine("| batch | runs | first run (ms) | p50 (ms) | p99 (ms) | first / p50 | ECGs/s |");
        _md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var p in points)
        {
            _md.AppendLine(CultureInfo.InvariantCulture, $"| {p.BatchSize} | {p.Runs} | {p.FirstMs:F2} | {p.P50Ms:F2} | {p.P99Ms:F2} | {p.FirstMs / p.P50Ms:F2} | {p.EcgsPerSecond:F0} |");
        }

        _md.AppendLine();
        if (cpu.Count > 0)
        {
            var cpuBest = cpu.MaxBy(p => p.EcgsPerSecond)!;
            _summary["cpu_best_ecgs_per_second"] = cpuBest.EcgsPerSecond;
            _md.AppendLine(CultureInfo.InvariantCulture, $"CPU provider in the same run ({Environment.ProcessorCount} cores): {string.Join(", ", cpu.Select(p => $"batch {p.BatchSize} {p.EcgsPerSecond:F0} ECGs/s (p50 {p.P50Ms:F1} ms)"))}.\n");
            _md.AppendLine("| goal | measured | met |");
            _md.AppendLine("|---|---|---|");
            _md.AppendLine(CultureInfo.InvariantCulture, $"| raw CUDA throughput ≥ 5,000 ECGs/s at the best batch | {best.EcgsPerSecond:F0} (batch {best.BatchSize}) | {(best.EcgsPerSecond >= 5000 ? "yes" : "no")} |");
            _md.AppendLine(CultureInfo.InvariantCulture, $"| ≥ 50× the CPU provider | {best.EcgsPerSecond / cpuBest.EcgsPerSecond:F1}× | {(best.EcgsPerSecond >= 50 * cpuBest.EcgsPerSecond ? "yes" : "no")} |");
            _md.AppendLine(CultureInfo.InvariantCulture, $"| first run after readiness within 2× steady p50 at every size | max {points.Max(p => p.FirstMs / p.P50Ms):F2}× | {(points.All(p => p.FirstMs <= 2 * p.P50Ms) ? "yes" : "no")} |");
            _md.AppendLine();
        }
    }

    public void Memory(string? before, string? after)
    {
        _summary["gpu_memory_before"] = before;
        _summary["gpu_memory_after"] = after;
        _md.AppendLine(CultureInfo.InvariantCulture, $"GPU (nvidia-smi name, driver, memory used, total): before `{before ?? "no nvidia-smi"}`, after the sweep `{after ?? "no nvidia-smi"}`.\n");
    }

    public string Markdown() =>
        $"# ECG2AF GPU check ({provider})\n\n{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {RuntimeInformation.OSDescription}; {Environment.ProcessorCount} cores; " +
        $".NET {Environment.Version}; ONNX Runtime {OrtEnv.Instance().GetVersionString()}\n\n{_md}";

    public Dictionary<string, object?> Summary() => _summary;
}
