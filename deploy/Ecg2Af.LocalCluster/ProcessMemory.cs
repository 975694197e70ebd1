using System.Globalization;

namespace Ecg2Af.LocalCluster;

/// <summary>Memory figures of a process from <c>/proc</c> (Linux), in kB: what the memory tests and benchmarks read of a worker.</summary>
public static class ProcessMemory
{
    /// <summary>A field of <c>/proc/&lt;pid&gt;/status</c>: VmRSS (resident now), VmHWM (peak resident).</summary>
    public static long Kb(int processId, string field) =>
        long.Parse(File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>Resets the process's peak resident set (VmHWM) to its current size (<c>clear_refs</c> 5).</summary>
    public static void ResetPeak(int processId) => File.WriteAllText($"/proc/{processId}/clear_refs", "5");
}
