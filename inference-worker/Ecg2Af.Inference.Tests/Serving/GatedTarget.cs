using System.Collections.Concurrent;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Tests.Serving;

/// <summary>
/// A real served model version (tiny ONNX model, real ONNX Runtime) whose runs can be held at a gate, so a test can
/// keep the inference loop busy while it queues work. Records every run: batch size and the tags (first input value)
/// of the items it computed, in order.
/// </summary>
internal sealed class GatedTarget(ServedVersion inner) : IInferenceTarget, IDisposable
{
    private readonly ManualResetEventSlim _gate = new(initialState: true);
    private readonly SemaphoreSlim _entered = new(0);

    public ConcurrentQueue<(int BatchSize, int[] Tags)> Runs { get; } = new();

    public int ComputedItems => Runs.Sum(r => r.BatchSize);

    public string ModelName => inner.ModelName;

    public string ModelVersion => inner.ModelVersion;

    public int InputLength => inner.InputLength;

    public IReadOnlyList<int> OutputSizes => inner.OutputSizes;

    public void Close() => _gate.Reset();

    public void Open() => _gate.Set();

    /// <summary>Waits until a run has entered (and is held at the gate if it is closed).</summary>
    public Task<bool> WaitForRunAsync(TimeSpan timeout) => _entered.WaitAsync(timeout);

    public void Run(int loop, Memory<float> input, int batchSize, float[][] outputs)
    {
        var tags = new int[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            tags[i] = (int)input.Span[i * InputLength];
        }

        Runs.Enqueue((batchSize, tags));
        _entered.Release();
        _gate.Wait(TimeSpan.FromSeconds(30));
        inner.Run(loop, input, batchSize, outputs);
    }

    public void Dispose()
    {
        _gate.Dispose();
        _entered.Dispose();
    }
}
