namespace Ecg2Af.Inference.Runtime;

/// <summary>
/// The batch sizes a session runs. With a list of allowed sizes a partial batch is padded up to the next allowed
/// size (as TF Serving's <c>allowed_batch_sizes</c> does), so only those few shapes ever reach cuDNN, and each is
/// warmed up before the version serves; the padded rows are zeros and never reach an answer.
/// </summary>
public sealed class BatchShapes
{
    private readonly int[] _allowed;

    /// <param name="maxBatchSize">The largest batch the scheduler forms.</param>
    /// <param name="allowed">Allowed sizes, increasing, the last one <paramref name="maxBatchSize"/>; empty: automatic.</param>
    public BatchShapes(int maxBatchSize, IReadOnlyList<int>? allowed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        MaxBatchSize = maxBatchSize;
        _allowed = [.. allowed ?? []];
        if (Validate(maxBatchSize, _allowed) is { } error)
        {
            throw new ArgumentException(error, nameof(allowed));
        }
    }

    /// <summary>No configured batching: every size runs as it is, warm-up at batch 1 only.</summary>
    public static BatchShapes Unpadded { get; } = new(1);

    public int MaxBatchSize { get; }

    /// <summary>The configured list; empty means automatic (see <see cref="For"/>).</summary>
    public IReadOnlyList<int> Allowed => _allowed;

    /// <summary>
    /// The sizes a session on <paramref name="provider"/> pads to, or null for none. The configured list applies to
    /// every provider. Without one, CUDA gets powers of two up to the maximum batch size plus that size (a few shapes,
    /// each with its own cuDNN plan), and the CPU runs every size unpadded (its cost grows with the rows, so padding
    /// would only waste work).
    /// </summary>
    public int[]? For(string provider)
    {
        if (_allowed.Length > 0)
        {
            return _allowed;
        }

        if (provider != OnnxModelRunner.Cuda || MaxBatchSize == 1 && ReferenceEquals(this, Unpadded))
        {
            return null;
        }

        var sizes = new List<int>();
        for (var size = 1; size < MaxBatchSize; size *= 2)
        {
            sizes.Add(size);
        }

        sizes.Add(MaxBatchSize);
        return [.. sizes];
    }

    /// <summary>Null when <paramref name="allowed"/> is a usable list for <paramref name="maxBatchSize"/>; otherwise why not.</summary>
    public static string? Validate(int maxBatchSize, IReadOnlyList<int> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (allowed.Count == 0)
        {
            return null;
        }

        for (var i = 0; i < allowed.Count; i++)
        {
            if (allowed[i] < 1)
            {
                return $"Allowed batch size {allowed[i]} must be at least 1.";
            }

            if (i > 0 && allowed[i] <= allowed[i - 1])
            {
                return $"Allowed batch sizes must increase strictly ({string.Join(", ", allowed)}).";
            }
        }

        return allowed[^1] != maxBatchSize
            ? $"The last allowed batch size ({allowed[^1]}) must equal MaxBatchSize ({maxBatchSize}), so every batch the scheduler forms has a size to pad to."
            : null;
    }

    /// <summary>The allowed size a batch of <paramref name="items"/> runs at: the smallest at least as large, or itself.</summary>
    public static int PadTo(int[]? allowed, int items)
    {
        if (allowed is null)
        {
            return items;
        }

        foreach (var size in allowed)
        {
            if (size >= items)
            {
                return size;
            }
        }

        return items;
    }
}
