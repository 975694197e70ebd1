using System.Globalization;

namespace Ecg2Af.LocalCluster;

/// <summary>
/// How a host that starts several workers on one machine shares its cores among them (the AppHost and
/// <see cref="LocalCluster"/> both use it): each worker sees only its share through <c>DOTNET_PROCESSOR_COUNT</c>,
/// from which it lays out its inference loops and ONNX Runtime threads, so the workers together never oversubscribe
/// the machine.
/// </summary>
public static class WorkerCores
{
    /// <summary>The variable .NET reads as the process's core count (<see cref="Environment.ProcessorCount"/>).</summary>
    public const string Variable = "DOTNET_PROCESSOR_COUNT";

    /// <summary>The AppHost's default number of workers: one per two cores, at least one, at most four.</summary>
    public static int DefaultWorkers(int cores) => Math.Clamp(cores / 2, 1, 4);

    /// <summary>Each worker's share: the cores divided by the workers, at least one.</summary>
    public static int PerWorker(int cores, int workers) => Math.Max(1, cores / Math.Max(1, workers));

    /// <summary><see cref="PerWorker"/> of this machine's cores, as the variable's value.</summary>
    public static string Setting(int workers) => PerWorker(Environment.ProcessorCount, workers).ToString(CultureInfo.InvariantCulture);
}
