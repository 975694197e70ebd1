using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Tests.Serving;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Inference.Tests.Runtime;

/// <summary>
/// Provider selection as this host really runs it: the test's own build carries the worker's ONNX Runtime package
/// (GPU by default), and what the host can run is found independently (<see cref="HostCapability"/>), so every
/// assertion holds on a CPU host (the fallback path) and on a CUDA host alike.
/// </summary>
public sealed class ProviderSelectionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ecg2af-providers-").FullName;
    private readonly string _version;
    private readonly (string Provider, string? Fallback) _host = HostCapability.For(AppContext.BaseDirectory);

    public ProviderSelectionTests()
    {
        _version = TinyModels.Write(_root, "tiny", "1");
    }

    private string OnnxPath => Path.Combine(_version, ModelFiles.Onnx);

    [Fact]
    public void Load_Auto_RunsWhereTheHostCanAndSaysWhyNot()
    {
        using var runner = OnnxModelRunner.Load(OnnxPath, TinyModels.Signature("tiny", "1"), Options(ExecutionProviderPreference.Auto));

        Assert.Equal(_host.Provider, runner.ExecutionProvider);
        Assert.Equal(_host.Fallback, runner.Fallback?.Label);
        if (runner.Fallback is { } fallback)
        {
            Assert.False(string.IsNullOrWhiteSpace(fallback.Detail));
            Assert.StartsWith(ProviderFallback.Describe(fallback.Reason), runner.FallbackReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Load_Cuda_RefusesToStartWhereCudaCannotRun()
    {
        var options = Options(ExecutionProviderPreference.Cuda);
        if (_host.Provider == OnnxModelRunner.Cuda)
        {
            using var runner = OnnxModelRunner.Load(OnnxPath, TinyModels.Signature("tiny", "1"), options);
            Assert.Equal(OnnxModelRunner.Cuda, runner.ExecutionProvider);
            return;
        }

        var error = Assert.Throws<ModelLoadException>(() => OnnxModelRunner.Load(OnnxPath, TinyModels.Signature("tiny", "1"), options));
        Assert.Contains("CUDA was required", error.Message, StringComparison.Ordinal);
        var expected = Enum.GetValues<FallbackReason>().Single(r => new ProviderFallback(r, "").Label == _host.Fallback);
        Assert.Contains(ProviderFallback.Describe(expected), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Cpu_NeverTriesCuda()
    {
        using var capture = OrtEnvironment.Capture();
        using var runner = OnnxModelRunner.Load(OnnxPath, TinyModels.Signature("tiny", "1"), Options(ExecutionProviderPreference.Cpu));

        Assert.Equal(OnnxModelRunner.Cpu, runner.ExecutionProvider);
        // Where CUDA cannot run, any attempt would have left a fallback reason and ONNX Runtime's load-failure line.
        Assert.Null(runner.Fallback);
        Assert.DoesNotContain(capture.Entries, e => e.IsProviderLoadFailure);
    }

    [Fact]
    public void ServedVersion_Auto_EverySessionOnOneProvider()
    {
        using var version = ServedVersion.Load(_version, "tiny", "1", Options(ExecutionProviderPreference.Auto), sessions: 3);

        Assert.Equal([_host.Provider, _host.Provider, _host.Provider], version.SessionProviders);
        Assert.Equal(_host.Provider, version.ExecutionProvider);
        Assert.Equal(_host.Fallback, version.Fallback?.Label);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static RuntimeOptions Options(ExecutionProviderPreference preference) =>
        new() { ExecutionProvider = preference, IntraOpThreads = 1 };
}

/// <summary>ONNX Runtime's own failure texts (as its CUDA provider and the dynamic loader word them) sorted into reasons.</summary>
public sealed class ProviderFallbackTests
{
    private const string LoadFailed = "[ErrorCode:Fail] OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library";

    [Theory]
    [InlineData("libcublasLt.so.13: cannot open shared object file: No such file or directory", "library_missing")]
    [InlineData("libcudnn.so.9: cannot open shared object file: No such file or directory", "library_missing")]
    [InlineData("libcuda.so.1: cannot open shared object file: No such file or directory", "driver_missing")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libcublasLt.so.13: version `libcublasLt.so.13' not found", "version_mismatch")]
    public void Classify_ProviderLibraryLoadFailure_NamesTheMissingPiece(string loaderError, string expected)
    {
        var log = new NativeLogEntry(Microsoft.ML.OnnxRuntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "onnxruntime", "provider_bridge_ort.cc:1900",
            $"Failed to load library /app/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so with error: {loaderError}");

        var fallback = OnnxModelRunner.Classify(new InvalidOperationException(LoadFailed), [log]);

        Assert.Equal(expected, fallback.Label);
        Assert.Contains(loaderError.Split(':')[0], fallback.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[ErrorCode:RuntimeException] CUDA failure 2: out of memory ; GPU=0 ; hostname=h ; expr=cudaMalloc((void**)&p, size);", "out_of_memory")]
    [InlineData("[ErrorCode:RuntimeException] Failed to allocate memory for requested buffer of size 1073741824", "out_of_memory")]
    [InlineData("[ErrorCode:RuntimeException] CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0", "out_of_memory")]
    [InlineData("[ErrorCode:RuntimeException] CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=0", "version_mismatch")]
    [InlineData("[ErrorCode:RuntimeException] CUDNN failure 1002: CUDNN_STATUS_VERSION_MISMATCH ; GPU=0", "version_mismatch")]
    [InlineData("[ErrorCode:RuntimeException] CUDA failure 100: no CUDA-capable device is detected ; GPU=0", "driver_missing")]
    [InlineData(LoadFailed, "library_missing")]
    [InlineData("[ErrorCode:Fail] Unexpected node type", "error")]
    public void Classify_OrtMessage_Reason(string message, string expected) =>
        Assert.Equal(expected, ProviderFallback.Classify(new InvalidOperationException(message)).Label);

    [Fact]
    public void Classify_CpuPackage_NotInBuild() =>
        Assert.Equal("not_in_build", ProviderFallback.Classify(new EntryPointNotFoundException(
            "Unable to find an entry point named 'OrtSessionOptionsAppendExecutionProvider_CUDA' in shared library 'onnxruntime'.")).Label);

    [Fact]
    public void Classify_OutOfMemory_IsNeverCalledMissingCuda()
    {
        // A GPU that ran out of memory while its libraries are all present must not read as "CUDA unavailable".
        var fallback = ProviderFallback.Classify(new InvalidOperationException(
            "[ErrorCode:RuntimeException] BFCArena::AllocateRawInternal Available memory of 0 is smaller than requested bytes of 2147483648 (libcudnn.so.9 loaded)"));

        Assert.Equal(FallbackReason.OutOfMemory, fallback.Reason);
        Assert.StartsWith("GPU out of memory", fallback.ToString(), StringComparison.Ordinal);
    }
}
