using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.Inference.Runtime;

/// <summary>
/// One ONNX Runtime session for one model: CUDA when it really works, the CPU provider otherwise, and it says which
/// and why. Its Run methods are thread-safe (ONNX Runtime sessions are).
/// </summary>
public sealed class OnnxModelRunner : IDisposable
{
    public const string Cuda = "cuda";
    public const string Cpu = "cpu";

    private readonly InferenceSession _session;
    private readonly string[] _outputNames;
    private readonly int[] _outputSizes;
    private readonly RunOptions _runOptions = new();

    private OnnxModelRunner(InferenceSession session, ModelSignature signature, string provider, string? fallbackReason)
    {
        _session = session;
        Signature = signature;
        ExecutionProvider = provider;
        FallbackReason = fallbackReason;
        _outputNames = signature.Outputs.Select(o => o.Name).ToArray();
        _outputSizes = signature.Outputs.Select(o => o.Size).ToArray();
        InputLength = signature.Input.Samples * signature.Input.Leads.Count;
    }

    public ModelSignature Signature { get; }

    /// <summary><c>cuda</c> or <c>cpu</c>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why CUDA is not in use, when it was wanted or allowed; null when CUDA runs or the CPU was asked for.</summary>
    public string? FallbackReason { get; }

    /// <summary>Floats per batch item: samples × leads.</summary>
    public int InputLength { get; }

    /// <summary>
    /// Opens <paramref name="modelPath"/>, checks that the graph matches <paramref name="signature"/> and runs one
    /// warm-up batch on the chosen provider. Throws <see cref="ModelLoadException"/> when the model cannot serve.
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
        OrtEnvironment.EnsureCreated();
        string? fallback = null;
        if (options.ExecutionProvider != ExecutionProviderPreference.Cpu)
        {
            try
            {
                return Create(model, modelName, signature, options, useCuda: true, fallbackReason: null);
            }
            catch (Exception e) when (IsCudaUnavailable(e))
            {
                if (options.ExecutionProvider == ExecutionProviderPreference.Cuda)
                {
                    throw new ModelLoadException($"CUDA was required but cannot run: {e.Message}", e);
                }

                fallback = $"CUDA unavailable: {FirstLine(e.Message)}";
            }
        }

        return Create(model, modelName, signature, options, useCuda: false, fallback);
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

        var memory = new Memory<float>(input, 0, batchSize * InputLength);
        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory,
            [batchSize, Signature.Input.Samples, Signature.Input.Leads.Count]);
        var inputs = new Dictionary<string, OrtValue> { [Signature.Input.Name] = tensor };
        using var results = _session.Run(_runOptions, inputs, _outputNames);
        var outputs = new float[_outputNames.Length][];
        for (var h = 0; h < outputs.Length; h++)
        {
            var span = results[h].GetTensorDataAsSpan<float>();
            var expected = batchSize * _outputSizes[h];
            if (span.Length != expected)
            {
                throw new InvalidOperationException($"Output {_outputNames[h]} has {span.Length} values; expected {expected}.");
            }

            outputs[h] = span.ToArray();
        }

        return outputs;
    }

    /// <summary>
    /// Runs a batch without allocating: ONNX Runtime reads <paramref name="input"/> (<paramref name="batchSize"/> inputs
    /// back to back) in place and writes each head straight into <paramref name="outputs"/> (one caller-owned array per
    /// head, each at least <c>batchSize × head size</c> long).
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

        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input[..(batchSize * InputLength)],
            [batchSize, Signature.Input.Samples, Signature.Input.Leads.Count]);
        var results = new OrtValue[_outputNames.Length];
        try
        {
            for (var h = 0; h < results.Length; h++)
            {
                var length = batchSize * _outputSizes[h];
                if (outputs[h].Length < length)
                {
                    throw new ArgumentException($"Output buffer {h} holds {outputs[h].Length} floats; batch {batchSize} needs {length}.", nameof(outputs));
                }

                results[h] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(outputs[h], 0, length),
                    [batchSize, _outputSizes[h]]);
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

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static OnnxModelRunner Create(byte[] model, string modelName, ModelSignature signature, RuntimeOptions options, bool useCuda, string? fallbackReason)
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
            sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(model, sessionOptions);
        }
        catch (OnnxRuntimeException e) when (!useCuda)
        {
            throw new ModelLoadException($"ONNX Runtime cannot load {modelName}: {FirstLine(e.Message)}", e);
        }

        var runner = new OnnxModelRunner(session, signature, useCuda ? Cuda : Cpu, fallbackReason);
        try
        {
            runner.CheckGraphMatchesSignature();
            runner.Run(new float[runner.InputLength], 1);
            return runner;
        }
        catch
        {
            runner.Dispose();
            throw;
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

    private static bool IsCudaUnavailable(Exception e) =>
        e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or ExternalException;

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] : line;
    }
}
