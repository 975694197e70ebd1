using System.Runtime.InteropServices;

namespace Ecg2Af.LocalCluster;

/// <summary>
/// What this host can run, found independently of the worker's own provider selection, so tests hold on a GPU host
/// as on a CPU host: the execution provider a worker of this build reports under <c>Auto</c>, and on a host without
/// usable CUDA the fallback reason it should give.
/// </summary>
public static class HostCapability
{
    /// <summary>The libraries ONNX Runtime 1.31's CUDA provider links or loads (CUDA 13, cuDNN 9).</summary>
    public static readonly string[] CudaLibraries =
        ["libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcufft.so.12", "libcudart.so.13", "libcudnn.so.9"];

    private static readonly Lazy<(string Provider, string? Fallback)> Expected =
        new(() => For(Path.GetDirectoryName(RepositoryLayout.WorkerDll)!));

    /// <summary><c>cuda</c> or <c>cpu</c>.</summary>
    public static string ExpectedProvider => Expected.Value.Provider;

    /// <summary>The fallback label (<c>not_in_build</c>, <c>library_missing</c>, <c>driver_missing</c>) on a host that runs the CPU; null on a CUDA host.</summary>
    public static string? ExpectedFallback => Expected.Value.Fallback;

    /// <summary>True when the program in <paramref name="folder"/> was built with ONNX Runtime's GPU package (OrtFlavor=Gpu, the default).</summary>
    public static bool HasCudaProvider(string folder) =>
        File.Exists(Path.Combine(folder, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so"))
        || File.Exists(Path.Combine(folder, "libonnxruntime_providers_cuda.so"));

    /// <summary>The provider and fallback label expected under <c>Auto</c> for the program built into <paramref name="folder"/>.</summary>
    public static (string Provider, string? Fallback) For(string folder)
    {
        if (!HasCudaProvider(folder))
        {
            return ("cpu", "not_in_build");
        }

        // The dynamic loader resolves the CUDA provider's libraries before the driver (libcuda.so.1 is its last
        // dependency), so a host missing both reports the library.
        if (!CudaLibraries.All(CanLoad))
        {
            return ("cpu", "library_missing");
        }

        return CanLoad("libcuda.so.1") && Directory.EnumerateFiles("/dev", "nvidia[0-9]*").Any()
            ? ("cuda", null)
            : ("cpu", "driver_missing");
    }

    private static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out var handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }
}
