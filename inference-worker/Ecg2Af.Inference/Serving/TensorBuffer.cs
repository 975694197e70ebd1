using System.Buffers;

namespace Ecg2Af.Inference.Serving;

/// <summary>
/// A float buffer rented from a <see cref="TensorPool"/>: one request's input on its way to a batch. One ECG is 60,000
/// floats (240,000 bytes), above the 85,000-byte large-object threshold, so inputs are pooled rather than allocated.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private readonly ArrayPool<float> _pool;
    private float[]? _array;

    internal TensorBuffer(ArrayPool<float> pool, float[] array, int length)
    {
        _pool = pool;
        _array = array;
        Length = length;
    }

    /// <summary>Floats in use (the rented array may be longer).</summary>
    public int Length { get; }

    public Span<float> Span => new(Array, 0, Length);

    public Memory<float> Memory => new(Array, 0, Length);

    private float[] Array => _array ?? throw new ObjectDisposedException(nameof(TensorBuffer));

    /// <summary>Returns the array to its pool; the buffer must not be used afterwards.</summary>
    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            _pool.Return(array);
        }
    }
}

/// <summary>
/// The pool request inputs are rented from. Sized so every queued request can hold a buffer without the pool
/// dropping arrays (which would put large-object-heap churn back).
/// </summary>
public sealed class TensorPool
{
    /// <summary>Largest pooled buffer: 32 ECGs of 30,000 × 12 samples; longer requests get a plain array.</summary>
    public const int MaxPooledLength = 32 * 30_000 * 12;

    private readonly ArrayPool<float> _pool;

    public TensorPool(int maxBuffersPerSize = 512)
    {
        _pool = ArrayPool<float>.Create(MaxPooledLength, maxBuffersPerSize);
    }

    public static TensorPool Shared { get; } = new();

    public TensorBuffer Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new TensorBuffer(_pool, _pool.Rent(length), length);
    }
}
