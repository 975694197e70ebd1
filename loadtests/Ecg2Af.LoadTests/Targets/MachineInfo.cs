using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Ecg2Af.LoadTests.Targets;

/// <summary>Facts about the machine and checkout that a report needs to be reproducible.</summary>
public static partial class MachineInfo
{
    /// <summary>The CPU model from lscpu (or /proc/cpuinfo).</summary>
    public static string CpuModel()
    {
        var text = Run("lscpu", "") ?? (File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "");
        var match = ModelName().Match(text);
        return match.Success ? match.Groups[1].Value.Trim() : "unknown CPU";
    }

    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>The checkout's short commit, with "+dirty" when it has uncommitted changes.</summary>
    public static string Commit(string repositoryRoot)
    {
        var sha = Run("git", $"-C \"{repositoryRoot}\" rev-parse --short=12 HEAD")?.Trim();
        if (string.IsNullOrEmpty(sha))
        {
            return "unknown";
        }

        var dirty = Run("git", $"-C \"{repositoryRoot}\" status --porcelain --untracked-files=no")?.Trim();
        return string.IsNullOrEmpty(dirty) ? sha : sha + "+dirty";
    }

    /// <summary>The CPU's base frequency in MHz when the system says it, else null.</summary>
    public static double? CpuMhz()
    {
        try
        {
            var match = CpuMhzLine().Match(File.ReadAllText("/proc/cpuinfo"));
            return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Whether the CPU has AVX-512F (else AVX2/FMA is assumed for the peak estimate).</summary>
    public static bool HasAvx512() => System.Runtime.Intrinsics.X86.Avx512F.IsSupported;

    private static string? Run(string file, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(5000);
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(?:Model name|model name)\s*:\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex ModelName();

    [GeneratedRegex(@"^cpu MHz\s*:\s*([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex CpuMhzLine();
}
