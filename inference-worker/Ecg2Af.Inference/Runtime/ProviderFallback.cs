namespace Ecg2Af.Inference.Runtime;

/// <summary>Why CUDA could not run a session. The names are the <c>reason</c> label of the fallback counter.</summary>
public enum FallbackReason
{
    /// <summary>This build carries ONNX Runtime's CPU-only package (built with <c>-p:OrtFlavor=Cpu</c>).</summary>
    NotInBuild,

    /// <summary>The NVIDIA driver (<c>libcuda.so.1</c>) is not installed, or no CUDA device is visible.</summary>
    DriverMissing,

    /// <summary>A CUDA or cuDNN library the CUDA provider links (cudart, cuBLAS, cuRAND, cuFFT, cuDNN) is not found.</summary>
    LibraryMissing,

    /// <summary>The driver, CUDA or cuDNN installed is not the version this ONNX Runtime was built for.</summary>
    VersionMismatch,

    /// <summary>The GPU had not enough free memory for the session or its warm-up.</summary>
    OutOfMemory,

    /// <summary>Anything else ONNX Runtime reported while creating or warming up the CUDA session.</summary>
    Error,
}

/// <summary>A CUDA session that did not come up: the classified reason and ONNX Runtime's own first line about it.</summary>
public sealed partial record ProviderFallback(FallbackReason Reason, string Detail)
{
    /// <summary>The reason as a metric label and metadata value: <c>library_missing</c>, <c>out_of_memory</c>, …</summary>
    public string Label => Labels.Of(Reason);

    /// <summary>One line for logs, health and metadata.</summary>
    public override string ToString() => $"{Describe(Reason)}: {Detail}";

    public static string Describe(FallbackReason reason) => reason switch
    {
        FallbackReason.NotInBuild => "this build has ONNX Runtime's CPU-only package",
        FallbackReason.DriverMissing => "no NVIDIA driver or CUDA device",
        FallbackReason.LibraryMissing => "a CUDA/cuDNN library is missing",
        FallbackReason.VersionMismatch => "CUDA/cuDNN/driver version mismatch",
        FallbackReason.OutOfMemory => "GPU out of memory",
        _ => "CUDA failed",
    };

    /// <summary>
    /// Sorts an exception from appending the CUDA provider, creating its session or running its warm-up into a
    /// reason, from the exception type and ONNX Runtime's message (the CUDA provider reports the CUDA/cuDNN error
    /// names and the loader's "cannot open shared object file" text verbatim).
    /// </summary>
    public static ProviderFallback Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var text = Flatten(exception);
        var reason = exception switch
        {
            // The CPU package has no CUDA entry point at all.
            EntryPointNotFoundException => FallbackReason.NotInBuild,
            _ when Has(text, "not enabled in this build", "CUDA execution provider is not enabled", "not compiled with CUDA") => FallbackReason.NotInBuild,
            _ when Has(text, "out of memory", "CUDA_ERROR_OUT_OF_MEMORY", "cudaErrorMemoryAllocation", "CUBLAS_STATUS_ALLOC_FAILED",
                "CUDNN_STATUS_ALLOC_FAILED", "Failed to allocate memory", "BFCArena") => FallbackReason.OutOfMemory,
            _ when Has(text, "driver version is insufficient", "cudaErrorInsufficientDriver", "CUDA_ERROR_COMPAT_NOT_SUPPORTED",
                "forward compatibility", "CUDNN_STATUS_VERSION_MISMATCH", "version mismatch", "undefined symbol", "version `",
                "no kernel image is available", "cudaErrorNoKernelImageForDevice", "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH") => FallbackReason.VersionMismatch,
            _ when Has(text, "libcuda.so", "no CUDA-capable device", "cudaErrorNoDevice", "CUDA_ERROR_NO_DEVICE", "cudaErrorInvalidDevice",
                "invalid device ordinal", "CUDA driver is a stub", "cudaErrorStubLibrary") => FallbackReason.DriverMissing,
            _ when Has(text, "cannot open shared object file", "Failed to load shared library", "Failed to load library",
                "libcudart", "libcublas", "libcudnn", "libcurand", "libcufft", "CUDNN_STATUS_NOT_INITIALIZED") => FallbackReason.LibraryMissing,
            DllNotFoundException => FallbackReason.LibraryMissing,
            _ => FallbackReason.Error,
        };
        return new ProviderFallback(reason, Summary(text));
    }

    private static string Flatten(Exception exception)
    {
        var parts = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            parts.Add(e.Message);
        }

        return string.Join(" | ", parts);
    }

    private static bool Has(string text, params string[] needles) =>
        needles.Any(n => text.Contains(n, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The informative part of ONNX Runtime's text: the library and the loader's reason when a provider library did
    /// not load, otherwise the first line without ONNX Runtime's source-location prefix.
    /// </summary>
    public static string Summary(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var load = LoadFailure().Match(text);
        if (load.Success)
        {
            return Cap($"cannot load {Path.GetFileName(load.Groups[1].Value)}: {load.Groups[2].Value.Trim()}");
        }

        var line = text.Split('\n', 2)[0].Trim();
        return Cap(SourcePrefix().Replace(line, ""));
    }

    private static string Cap(string line) => line.Length > 300 ? line[..300] : line;

    [System.Text.RegularExpressions.GeneratedRegex(@"Failed to load library (\S+) with error: ([^|\n]+)")]
    private static partial System.Text.RegularExpressions.Regex LoadFailure();

    [System.Text.RegularExpressions.GeneratedRegex(@"\S+\.(cc|h|cpp):\d+ .*?\[ONNXRuntimeError\] : \d+ : \w+ : ")]
    private static partial System.Text.RegularExpressions.Regex SourcePrefix();

    private static class Labels
    {
        public static string Of(FallbackReason reason) => reason switch
        {
            FallbackReason.NotInBuild => "not_in_build",
            FallbackReason.DriverMissing => "driver_missing",
            FallbackReason.LibraryMissing => "library_missing",
            FallbackReason.VersionMismatch => "version_mismatch",
            FallbackReason.OutOfMemory => "out_of_memory",
            _ => "error",
        };
    }

    /// <summary>Every label value, so counters can be published at 0.</summary>
    public static IReadOnlyList<string> AllLabels { get; } = Enum.GetValues<FallbackReason>().Select(Labels.Of).ToArray();
}
