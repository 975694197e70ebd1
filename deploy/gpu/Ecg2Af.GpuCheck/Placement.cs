using System.Text.Json;
using Ecg2Af.Inference;
using Ecg2Af.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.GpuCheck;

/// <summary>
/// Where ONNX Runtime itself says the nodes ran: a profiled session on the requested provider, a few runs, and the
/// kernel events of its profile counted by the provider each names.
/// </summary>
internal static class Placement
{
    public sealed record Result(IReadOnlyDictionary<string, int> KernelsByProvider, IReadOnlyList<string> OffProviderOps, IReadOnlyList<string> Log, string ProfilePath);

    public static Result Measure(string onnxPath, ModelSignature signature, RuntimeOptions runtime, bool cuda, string outputFolder)
    {
        var log = new List<string>();
        OrtEnvironment.Listen(entry =>
        {
            if (entry.IsNodePlacement || entry.Severity >= OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING)
            {
                lock (log)
                {
                    log.Add($"[{entry.Severity}] {entry.Message}");
                }
            }
        });
        OrtEnvironment.EnsureCreated();

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableProfiling = true,
            ProfileOutputPathPrefix = Path.Combine(outputFolder, "ort-profile"),
            // Verbose session log: ONNX Runtime writes its "Node placements" summary at this level.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE,
        };
        if (cuda)
        {
            using var cudaOptions = new OrtCUDAProviderOptions();
            cudaOptions.UpdateOptions(runtime.Cuda.ProviderOptions(runtime.CudaDeviceId));
            options.AppendExecutionProvider_CUDA(cudaOptions);
        }

        using var session = new InferenceSession(onnxPath, options);
        var input = new float[4 * signature.Input.Samples * signature.Input.Leads.Count];
        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [4, signature.Input.Samples, signature.Input.Leads.Count]);
        using var runOptions = new RunOptions();
        for (var i = 0; i < 3; i++)
        {
            using var outputs = session.Run(runOptions, [signature.Input.Name], [tensor], signature.Outputs.Select(o => o.Name).ToArray());
        }

        var profile = session.EndProfiling();
        OrtEnvironment.Listen(null);
        var (counts, off) = Count(profile, cuda ? "CUDAExecutionProvider" : "CPUExecutionProvider");
        return new Result(counts, off, log.Where(l => l.Contains("placement", StringComparison.OrdinalIgnoreCase) || l.Contains("placed on", StringComparison.OrdinalIgnoreCase) || l.Contains("assigned", StringComparison.OrdinalIgnoreCase)).ToArray(), profile);
    }

    /// <summary>Kernel events per provider in an ONNX Runtime profile, and the ops that ran off <paramref name="wanted"/>.</summary>
    public static (Dictionary<string, int> Counts, List<string> OffProvider) Count(string profilePath, string wanted)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(profilePath));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var off = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (e.TryGetProperty("cat", out var cat) && cat.GetString() == "Node"
                && e.TryGetProperty("name", out var name) && name.GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)
                && e.TryGetProperty("args", out var args) && args.TryGetProperty("provider", out var provider))
            {
                var p = provider.GetString() ?? "?";
                counts[p] = counts.GetValueOrDefault(p) + 1;
                if (p != wanted && args.TryGetProperty("op_name", out var op))
                {
                    off.Add(op.GetString() ?? "?");
                }
            }
        }

        return (counts, [.. off]);
    }
}
