namespace Ecg2Af.Inference.Serving;

/// <summary>
/// Scheduling lane of a request. Lanes are served in strict order: every queued <see cref="Stat"/> request goes
/// before any <see cref="Routine"/> one, and those before <see cref="Batch"/> work.
/// </summary>
public enum Priority
{
    /// <summary>Clinically urgent: overtakes everything queued.</summary>
    Stat = 0,

    /// <summary>The default for interactive requests.</summary>
    Routine = 1,

    /// <summary>Bulk and background scoring.</summary>
    Batch = 2,
}

/// <summary>Reads a priority from its wire forms.</summary>
public static class Priorities
{
    public static IReadOnlyList<Priority> All { get; } = [Priority.Stat, Priority.Routine, Priority.Batch];

    /// <summary>The lowercase wire name: <c>stat</c>, <c>routine</c> or <c>batch</c>.</summary>
    public static string Name(this Priority priority) => priority switch
    {
        Priority.Stat => "stat",
        Priority.Routine => "routine",
        Priority.Batch => "batch",
        _ => throw new ArgumentOutOfRangeException(nameof(priority)),
    };

    /// <summary>
    /// Parses <c>stat</c>, <c>routine</c> or <c>batch</c> (any case), or Triton's numeric levels: 1 = stat, 2 = routine,
    /// 3 or more = batch, 0 = the default (routine).
    /// </summary>
    public static bool TryParse(string? text, out Priority priority)
    {
        priority = Priority.Routine;
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        if (long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var level))
        {
            return TryFromLevel(level, out priority);
        }

        switch (value.ToUpperInvariant())
        {
            case "STAT":
                priority = Priority.Stat;
                return true;
            case "ROUTINE":
                priority = Priority.Routine;
                return true;
            case "BATCH":
                priority = Priority.Batch;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Triton's schedule-policy level: 0 = default (routine), 1 = stat, 2 = routine, 3 and above = batch.</summary>
    public static bool TryFromLevel(long level, out Priority priority)
    {
        priority = level switch
        {
            0 or 2 => Priority.Routine,
            1 => Priority.Stat,
            _ => Priority.Batch,
        };
        return level >= 0;
    }
}
