namespace Ecg2Af.Inference.Serving;

/// <summary>
/// The measured compute time per item of one model version at each batch size, and the batch cap it implies: the
/// smallest batch beyond which a larger one saves less than <c>minGain</c> of the time per item. Where a batch of 16
/// costs about as much per ECG as a batch of 1 (a CPU core running one single-threaded session), batching buys no
/// throughput and only makes an ECG that just missed a batch wait for all of it; where it costs far less (a GPU, or a
/// processor whose blocked kernels gain from width), the cap stays high. Not thread-safe: the scheduler calls it under
/// its lock.
/// </summary>
public sealed class BatchCosts
{
    /// <summary>Runs at a size (after the first, which may include one-off work such as cuDNN's algorithm search) before the size counts.</summary>
    public const int MinSamples = 4;

    /// <summary>Weight of the newest run in a size's moving average.</summary>
    private const double Weight = 0.1;

    private readonly int _maxBatchSize;
    private readonly double _minGain;
    private readonly int[] _runs;
    private readonly double[] _secondsPerItem;

    /// <param name="maxBatchSize">The largest batch the scheduler forms, and the cap until the measurements say otherwise.</param>
    /// <param name="minGain">The least fraction of the time per item a larger batch must save to be worth its wait (0–1).</param>
    public BatchCosts(int maxBatchSize, double minGain)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minGain, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minGain, 1);
        _maxBatchSize = maxBatchSize;
        _minGain = minGain;
        _runs = new int[maxBatchSize + 1];
        _secondsPerItem = new double[maxBatchSize + 1];
        Cap = maxBatchSize;
    }

    /// <summary>The most items a batch should take now (1 … max batch size).</summary>
    public int Cap { get; private set; }

    /// <summary>Runs recorded at <paramref name="items"/>, the first included.</summary>
    public int Runs(int items) => items >= 1 && items <= _maxBatchSize ? _runs[items] : 0;

    /// <summary>The moving average of compute seconds per item at <paramref name="items"/>; 0 until a run after the first.</summary>
    public double SecondsPerItem(int items) => items >= 1 && items <= _maxBatchSize ? _secondsPerItem[items] : 0;

    /// <summary>Adds one successful run of <paramref name="items"/> that took <paramref name="seconds"/>; true when the cap changed.</summary>
    public bool Record(int items, double seconds)
    {
        if (items < 1 || items > _maxBatchSize || !(seconds > 0) || double.IsInfinity(seconds))
        {
            return false;
        }

        var runs = ++_runs[items];
        if (runs == 1)
        {
            return false;
        }

        var sample = seconds / items;
        _secondsPerItem[items] = runs == 2 ? sample : ((1 - Weight) * _secondsPerItem[items]) + (Weight * sample);
        if (runs <= MinSamples)
        {
            // This size does not count yet, so the decision cannot have changed.
            return false;
        }

        var cap = Decide();
        if (cap == Cap)
        {
            return false;
        }

        Cap = cap;
        return true;
    }

    /// <summary>
    /// Walks the measured sizes upwards and moves to a larger one only when it is at least <c>minGain</c> cheaper per
    /// item than the current choice. While the largest size measured is still the cheapest, nothing is known against
    /// going larger still, so the cap stays at the maximum; with fewer than two sizes measured it stays there too.
    /// </summary>
    private int Decide()
    {
        var chosen = 0;
        var largest = 0;
        for (var size = 1; size <= _maxBatchSize; size++)
        {
            if (_runs[size] <= MinSamples)
            {
                continue;
            }

            if (chosen == 0)
            {
                chosen = size;
            }
            else if (_secondsPerItem[size] <= _secondsPerItem[chosen] * (1 - _minGain))
            {
                chosen = size;
            }

            largest = size;
        }

        if (chosen == 0 || chosen == largest)
        {
            return _maxBatchSize;
        }

        return chosen;
    }
}
