using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ecg2Af.Inference.Runtime;

/// <summary>
/// One ONNX Runtime session for one model: CUDA when it really works (the session was created and its warm-up ran),
/// the CPU provider otherwise, and it says which and why. Batches are padded up to the allowed batch sizes of
/// <see cref="RuntimeOptions.Batching"/> (zero rows, never returned) and every allowed size is warmed up before the
/// session is handed out. Its Run methods are thread-safe.
/// </summary>
public sealed class OnnxModelRunner : IDisposable
{
    public const string Cuda = "cuda";
    public const string Cpu = "cpu";

    /// <summary>ONNX Runtime error codes that mean the model file itself is unusable, whatever the provider.</summary>
    private static readonly string[] ModelErrors = ["[ErrorCode:InvalidProtobuf]", "[ErrorCode:NoSuchFile]", "[ErrorCode:NoModel]", "[ErrorCode:InvalidGraph]"];

    private readonly InferenceSession _session;
    private readonly string[] _outputNames;
    private readonly int[] _outputSizes;
    private readonly RunOptions _runOptions = new();
    private readonly int[]? _padded;
    private readonly Dictionary<int, Staging> _staging = [];
    private readonly OrtMemoryInfo? _pinned;
    private readonly OrtAllocator? _pinnedAllocator;
    private bool _disposed;

    private OnnxModelRunner(InferenceSession session, ModelSignature signature, string provider, ProviderFallback? fallback,
        RuntimeOptions options, IReadOnlyList<NativeLogEntry> placementLog)
    {
        _session = session;
        Signature = signature;
        ExecutionProvider = provider;
        Fallback = fallback;
        PlacementWarnings = placementLog.Where(e => e.IsNodePlacement).Select(e => e.Message).ToArray();
        _outputNames = signature.Outputs.Select(o => o.Name).ToArray();
        _outputSizes = signature.Outputs.Select(o => o.Size).ToArray();
        InputLength = signature.Input.Samples * signature.Input.Leads.Count;
        _padded = options.Batching.For(provider);
        if (provider == Cuda && options.Cuda.IoBinding)
        {
            _pinned = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, options.CudaDeviceId, OrtMemType.CpuOutput);
            _pinnedAllocator = new OrtAllocator(session, _pinned);
        }
    }

    public ModelSignature Signature { get; }

    /// <summary><c>cuda</c> or <c>cpu</c>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why CUDA is not in use although it was allowed; null when CUDA runs or the CPU was asked for.</summary>
    public ProviderFallback? Fallback { get; }

    /// <summary><see cref="Fallback"/> as one line; null when there was none.</summary>
    public string? FallbackReason => Fallback?.ToString();

    /// <summary>Floats per batch item: samples × leads.</summary>
    public int InputLength { get; }

    /// <summary>The sizes batches are padded up to; null when every size runs as it is.</summary>
    public IReadOnlyList<int>? PaddedBatchSizes => _padded;

    /// <summary>The batch sizes run once before the session was handed out.</summary>
    public IReadOnlyList<int> WarmedUpBatchSizes => _padded ?? [1];

    /// <summary>True when runs go through pinned host buffers bound with an IOBinding (CUDA only).</summary>
    public bool UsesIoBinding => _pinnedAllocator is not null;

    /// <summary>ONNX Runtime's warnings at session creation about nodes not placed on the preferred provider.</summary>
    public IReadOnlyList<string> PlacementWarnings { get; }

    /// <summary>
    /// Opens <paramref name="modelPath"/>, checks that the graph matches <paramref name="signature"/> and warms up
    /// every batch size the session will run, on the provider <paramref name="options"/> asks for: <c>Cpu</c> never
    /// touches CUDA; <c>Cuda</c> throws <see cref="ModelLoadException"/> (with the classified reason) when CUDA
    /// cannot run; <c>Auto</c> falls back to the CPU with the reason in <see cref="Fallback"/>. Throws
    /// <see cref="ModelLoadException"/> when the model cannot serve.
    /// </summary>
    public static OnnxModelRunner Load(string modelPath, ModelSignature signature, RuntimeOptions options) =>
        Load(File.ReadAllBytes(modelPath), Path.GetFileName(modelPath), signature, options);

    /// <summary>
    /// As <see cref="Load(string, ModelSignature, RuntimeOptions)"/>, from the graph's bytes (for example one rewritten by
    /// <see cref="Onnx.Conv1DTo2D"/>); <paramref name="modelName"/> names it in error messages.
    /// </summary>
    public static OnnxModelRunner Load(byte[] model, string modelName, ModelSignature signature, RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ExecutionProvider == ExecutionProviderPreference.Cpu)
        {
            return LoadOnCpu(model, modelName, signature, options, fallback: null);
        }

        var runner = TryLoadOnCuda(model, modelName, signature, options, out var fallback);
        if (runner is not null)
        {
            return runner;
        }

        if (options.ExecutionProvider == ExecutionProviderPreference.Cuda)
        {
            throw new ModelLoadException($"CUDA was required (Model:Runtime:ExecutionProvider=Cuda) but cannot run: {fallback}");
        }

        return LoadOnCpu(model, modelName, signature, options, fallback);
    }

    /// <summary>A session on CUDA, or null with the classified reason it could not run there.</summary>
    public static OnnxModelRunner? TryLoadOnCuda(byte[] model, string modelName, ModelSignature signature, RuntimeOptions options, out ProviderFallback? failure)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(options);
        OrtEnvironment.EnsureCreated();
        using var capture = OrtEnvironment.Capture();
        try
        {
            failure = null;
            return Create(model, modelName, signature, options, useCuda: true, fallback: null);
        }
        catch (Exception e) when (IsCudaFailure(e))
        {
            failure = Classify(e, capture.Entries);
            return null;
        }
    }

    /// <summary>A session on the CPU provider (CUDA is never touched), recording <paramref name="fallback"/> as the reason it is there.</summary>
    public static OnnxModelRunner LoadOnCpu(byte[] model, string modelName, ModelSignature signature, RuntimeOptions options, ProviderFallback? fallback)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(options);
        OrtEnvironment.EnsureCreated();
        return Create(model, modelName, signature, options, useCuda: false, fallback);
    }

    /// <summary>As <see cref="LoadOnCpu(byte[], string, ModelSignature, RuntimeOptions, ProviderFallback?)"/>, from a file.</summary>
    public static OnnxModelRunner LoadOnCpu(string modelPath, ModelSignature signature, RuntimeOptions options, ProviderFallback? fallback) =>
        LoadOnCpu(File.ReadAllBytes(modelPath), Path.GetFileName(modelPath), signature, options, fallback);

    /// <summary>As <see cref="TryLoadOnCuda(byte[], string, ModelSignature, RuntimeOptions, out ProviderFallback?)"/>, from a file.</summary>
    public static OnnxModelRunner? TryLoadOnCuda(string modelPath, ModelSignature signature, RuntimeOptions options, out ProviderFallback? failure) =>
        TryLoadOnCuda(File.ReadAllBytes(modelPath), Path.GetFileName(modelPath), signature, options, out failure);

    /// <summary>A CUDA failure, classified from the exception and the native log lines written while it happened.</summary>
    public static ProviderFallback Classify(Exception exception, IReadOnlyList<NativeLogEntry> nativeLog)
    {
        ArgumentNullException.ThrowIfNull(nativeLog);
        var lines = nativeLog.Where(e => e.Severity >= OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING).Select(e => e.Message).ToArray();
        if (lines.Length == 0)
        {
            return ProviderFallback.Classify(exception);
        }

        // ONNX Runtime's exception says "Failed to load shared library"; its log line names the library and the
        // loader's reason, which tells a missing driver from a missing CUDA/cuDNN library.
        var combined = new InvalidOperationException(string.Join(" | ", lines.Prepend(exception.Message)));
        var classified = ProviderFallback.Classify(exception is EntryPointNotFoundException ? exception : combined);
        return classified with { Detail = ProviderFallback.Summary(string.Join(" | ", lines.Prepend(exception.Message))) };
    }

    /// <summary>Runs a batch. <paramref name="input"/> holds <paramref name="batchSize"/> inputs back to back.</summary>
    /// <returns>One array per output head, in signature order, each <c>batchSize × head size</c> long.</returns>
    public float[][] Run(float[] input, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (input.Length < batchSize * InputLength)
        {
            throw new ArgumentException($"Input holds {input.Length} floats; batch {batchSize} needs {batchSize * InputLength}.", nameof(input));
        }

        var outputs = _outputSizes.Select(size => new float[batchSize * size]).ToArray();
        Run(new Memory<float>(input, 0, batchSize * InputLength), batchSize, outputs);
        return outputs;
    }

    /// <summary>
    /// Runs a batch: ONNX Runtime reads <paramref name="input"/> (<paramref name="batchSize"/> inputs back to back) and
    /// each head lands in <paramref name="outputs"/> (one caller-owned array per head, each at least
    /// <c>batchSize × head size</c> long). Without padding or IOBinding this allocates nothing and copies nothing; a
    /// padded batch is staged in a buffer of the allowed size with zero rows after the inputs, and only the first
    /// <paramref name="batchSize"/> rows of each output are copied back.
    /// </summary>
    public void Run(Memory<float> input, int batchSize, float[][] outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (input.Length < batchSize * InputLength)
        {
            throw new ArgumentException($"Input holds {input.Length} floats; batch {batchSize} needs {batchSize * InputLength}.", nameof(input));
        }

        if (outputs.Length < _outputNames.Length)
        {
            throw new ArgumentException($"{outputs.Length} output buffers for {_outputNames.Length} heads.", nameof(outputs));
        }

        for (var h = 0; h < _outputNames.Length; h++)
        {
            if (outputs[h].Length < batchSize * _outputSizes[h])
            {
                throw new ArgumentException($"Output buffer {h} holds {outputs[h].Length} floats; batch {batchSize} needs {batchSize * _outputSizes[h]}.", nameof(outputs));
            }
        }

        var runSize = BatchShapes.PadTo(_padded, batchSize);
        var allowed = _padded is not null && Array.IndexOf(_padded, runSize) >= 0;
        if (!allowed || (runSize == batchSize && _pinnedAllocator is null))
        {
            RunDirect(input[..(batchSize * InputLength)], batchSize, outputs);
            return;
        }

        var staging = StagingFor(runSize);
        lock (staging)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var rows = batchSize * InputLength;
            var stagedInput = staging.Input;
            input.Span[..rows].CopyTo(stagedInput);
            stagedInput[rows..].Clear();
            staging.Run(_session, _runOptions);
            for (var h = 0; h < _outputNames.Length; h++)
            {
                staging.Output(h)[..(batchSize * _outputSizes[h])].CopyTo(outputs[h]);
            }
        }
    }

    public void Dispose()
    {
        lock (_staging)
        {
            _disposed = true;
            foreach (var staging in _staging.Values)
            {
                lock (staging)
                {
                    staging.Dispose();
                }
            }

            _staging.Clear();
        }

        _pinnedAllocator?.Dispose();
        _pinned?.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
    }

    private void RunDirect(Memory<float> input, int batchSize, float[][] outputs)
    {
        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input,
            [batchSize, Signature.Input.Samples, Signature.Input.Leads.Count]);
        var results = new OrtValue[_outputNames.Length];
        try
        {
            for (var h = 0; h < results.Length; h++)
            {
                results[h] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                    new Memory<float>(outputs[h], 0, batchSize * _outputSizes[h]), [batchSize, _outputSizes[h]]);
            }

            _session.Run(_runOptions, [Signature.Input.Name], [tensor], _outputNames, results);
        }
        finally
        {
            foreach (var result in results)
            {
                result?.Dispose();
            }
        }
    }

    private Staging StagingFor(int size)
    {
        lock (_staging)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_staging.TryGetValue(size, out var staging))
            {
                staging = _pinnedAllocator is null
                    ? new ManagedStaging(this, size)
                    : new BoundStaging(this, size, _pinnedAllocator);
                _staging[size] = staging;
            }

            return staging;
        }
    }

    private static OnnxModelRunner Create(byte[] model, string modelName, ModelSignature signature, RuntimeOptions options, bool useCuda, ProviderFallback? fallback)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads,
        };
        if (!options.IntraOpSpinning)
        {
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

        if (useCuda)
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(options.Cuda.ProviderOptions(options.CudaDeviceId));
            sessionOptions.AppendExecutionProvider_CUDA(cuda);
        }

        InferenceSession session;
        IReadOnlyList<NativeLogEntry> log;
        using (var capture = OrtEnvironment.Capture())
        {
            try
            {
                session = new InferenceSession(model, sessionOptions);
            }
            catch (OnnxRuntimeException e) when (!useCuda || ModelErrors.Any(code => e.Message.Contains(code, StringComparison.Ordinal)))
            {
                throw new ModelLoadException($"ONNX Runtime cannot load {modelName}: {FirstLine(e.Message)}", e);
            }

            log = [.. capture.Entries];
        }

        OnnxModelRunner runner;
        try
        {
            runner = new OnnxModelRunner(session, signature, useCuda ? Cuda : Cpu, fallback, options, log);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        try
        {
            runner.CheckGraphMatchesSignature();
            runner.WarmUp();
            return runner;
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    /// <summary>Runs every batch size the session will see (zeros), so no first request pays for a cuDNN plan or an arena growth.</summary>
    private void WarmUp()
    {
        var largest = WarmedUpBatchSizes.Max();
        var input = new float[largest * InputLength];
        var outputs = _outputSizes.Select(size => new float[largest * size]).ToArray();
        foreach (var size in WarmedUpBatchSizes)
        {
            Run(input.AsMemory(0, size * InputLength), size, outputs);
        }
    }

    private void CheckGraphMatchesSignature()
    {
        if (!_session.InputMetadata.TryGetValue(Signature.Input.Name, out var input))
        {
            throw new ModelLoadException($"The graph has no input '{Signature.Input.Name}' (it has {string.Join(", ", _session.InputMetadata.Keys)}).");
        }

        int[] expected = [-1, Signature.Input.Samples, Signature.Input.Leads.Count];
        var dims = input.Dimensions;
        if (dims.Length != 3 || dims[1] != expected[1] || dims[2] != expected[2])
        {
            throw new ModelLoadException($"Input '{input}' has shape [{string.Join(", ", dims)}]; model.json says [N, {expected[1]}, {expected[2]}].");
        }

        foreach (var output in Signature.Outputs)
        {
            if (!_session.OutputMetadata.TryGetValue(output.Name, out var meta))
            {
                throw new ModelLoadException($"The graph has no output '{output.Name}'.");
            }

            if (meta.Dimensions.Length != 2 || meta.Dimensions[1] != output.Size)
            {
                throw new ModelLoadException($"Output '{output.Name}' has shape [{string.Join(", ", meta.Dimensions)}]; model.json says [N, {output.Size}].");
            }
        }
    }

    /// <summary>
    /// Failures of appending the CUDA provider, creating its session or running its warm-up. Not
    /// <see cref="ModelLoadException"/> (the model itself does not fit its signature: no provider helps).
    /// </summary>
    private static bool IsCudaFailure(Exception e) =>
        e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or ExternalException;

    private static string FirstLine(string message) => Trim(message.Split('\n', 2)[0].Trim());

    private static string Trim(string line) => line.Length > 400 ? line[..400] : line;

    /// <summary>One allowed batch size's input and output buffers.</summary>
    private abstract class Staging : IDisposable
    {
        public abstract Span<float> Input { get; }

        public abstract Span<float> Output(int head);

        public abstract void Run(InferenceSession session, RunOptions runOptions);

        public abstract void Dispose();
    }

    /// <summary>Managed arrays (the CPU provider reads and writes them in place).</summary>
    private sealed class ManagedStaging : Staging
    {
        private readonly OnnxModelRunner _runner;
        private readonly float[] _input;
        private readonly float[][] _outputs;
        private readonly int _size;

        public ManagedStaging(OnnxModelRunner runner, int size)
        {
            _runner = runner;
            _size = size;
            _input = new float[size * runner.InputLength];
            _outputs = runner._outputSizes.Select(s => new float[size * s]).ToArray();
        }

        public override Span<float> Input => _input;

        public override Span<float> Output(int head) => _outputs[head];

        public override void Run(InferenceSession session, RunOptions runOptions) => _runner.RunDirect(_input, _size, _outputs);

        public override void Dispose()
        {
        }
    }

    /// <summary>Pinned host tensors allocated by ONNX Runtime's CUDA-pinned allocator, bound once with an IOBinding.</summary>
    private sealed class BoundStaging : Staging
    {
        private readonly OrtValue _input;
        private readonly OrtValue[] _outputs;
        private readonly OrtIoBinding _binding;

        public BoundStaging(OnnxModelRunner runner, int size, OrtAllocator pinned)
        {
            var signature = runner.Signature;
            _input = OrtValue.CreateAllocatedTensorValue(pinned, TensorElementType.Float, [size, signature.Input.Samples, signature.Input.Leads.Count]);
            _outputs = runner._outputSizes.Select(s => OrtValue.CreateAllocatedTensorValue(pinned, TensorElementType.Float, [size, s])).ToArray();
            _binding = runner._session.CreateIoBinding();
            _binding.BindInput(signature.Input.Name, _input);
            for (var h = 0; h < _outputs.Length; h++)
            {
                _binding.BindOutput(runner._outputNames[h], _outputs[h]);
            }
        }

        public override Span<float> Input => _input.GetTensorMutableDataAsSpan<float>();

        public override Span<float> Output(int head) => _outputs[head].GetTensorMutableDataAsSpan<float>();

        public override void Run(InferenceSession session, RunOptions runOptions)
        {
            _binding.SynchronizeBoundInputs();
            session.RunWithBinding(runOptions, _binding);
            _binding.SynchronizeBoundOutputs();
        }

        public override void Dispose()
        {
            _binding.Dispose();
            _input.Dispose();
            foreach (var output in _outputs)
            {
                output.Dispose();
            }
        }
    }
}
