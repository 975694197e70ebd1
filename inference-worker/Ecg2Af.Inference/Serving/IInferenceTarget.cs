namespace Ecg2Af.Inference.Serving;

/// <summary>A model version the scheduler can run batches on: one ONNX Runtime session per inference loop.</summary>
public interface IInferenceTarget
{
    string ModelName { get; }

    string ModelVersion { get; }

    /// <summary>Floats per batch item (samples × leads).</summary>
    int InputLength { get; }

    /// <summary>Width of each output head per item, in signature order.</summary>
    IReadOnlyList<int> OutputSizes { get; }

    /// <summary>
    /// Runs <paramref name="batchSize"/> items held back to back in <paramref name="input"/> on the session of
    /// <paramref name="loop"/>, writing each head into <paramref name="outputs"/> (each at least batch × size long).
    /// </summary>
    void Run(int loop, Memory<float> input, int batchSize, float[][] outputs);
}
