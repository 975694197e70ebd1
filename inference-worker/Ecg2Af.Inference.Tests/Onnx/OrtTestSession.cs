using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.Inference.Tests.Onnx;

/// <summary>A CPU ONNX Runtime session over model bytes, run on a <c>[batch, samples, channels]</c> float input.</summary>
internal sealed class OrtTestSession : IDisposable
{
    private readonly InferenceSession _session;

    public OrtTestSession(byte[] model)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        _session = new InferenceSession(model, options);
    }

    public InferenceSession Session => _session;

    /// <summary>Runs the single input; returns each output's values (batch-major) by name, in graph order.</summary>
    public IReadOnlyList<(string Name, float[] Values)> Run(float[] input, int batch, int samples, int channels)
    {
        var inputName = _session.InputNames.Single();
        using var value = OrtValue.CreateTensorValueFromMemory(input, [batch, samples, channels]);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, new Dictionary<string, OrtValue> { [inputName] = value }, _session.OutputNames);
        return _session.OutputNames.Zip(results, (name, r) => (name, r.GetTensorDataAsSpan<float>().ToArray())).ToList();
    }

    public void Dispose() => _session.Dispose();
}
