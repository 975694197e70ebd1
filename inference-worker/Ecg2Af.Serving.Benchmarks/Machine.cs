using System.Diagnostics;
using System.Runtime.InteropServices;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.LocalCluster;
using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.Serving.Benchmarks;

/// <summary>The facts a benchmark figure needs beside it.</summary>
internal static class Machine
{
    public static IEnumerable<string> Describe(RuntimeOptions runtime, int loops, string provider)
    {
        yield return $"CPU: {CpuModel()}, {Environment.ProcessorCount} logical cores; memory {MemoryGiB()} GiB; {RuntimeInformation.OSDescription}";
        yield return $".NET {Environment.Version}; ONNX Runtime {OrtEnv.Instance().GetVersionString()}; git {GitCommit()}";
        yield return $"Inference: {loops} loop(s) × {runtime.IntraOpThreads} intra-op thread(s), execution provider {provider}";
        yield return $"Load average at start (1/5/15 min): {LoadAverage()}; the load generator runs in the same machine as the worker";
    }

    private static string CpuModel() => Read("/proc/cpuinfo")?.Split('\n')
        .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();

    private static string MemoryGiB()
    {
        var line = Read("/proc/meminfo")?.Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb)
            ? (kb / 1024.0 / 1024.0).ToString("F0", System.Globalization.CultureInfo.InvariantCulture)
            : "?";
    }

    private static string LoadAverage() => string.Join(" / ", (Read("/proc/loadavg") ?? "? ? ?").Split(' ').Take(3));

    private static string GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", ["-C", RepositoryLayout.Root, "rev-parse", "--short", "HEAD"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var sha = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? sha : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
