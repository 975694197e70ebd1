using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Worker.Predictions;

/// <summary>Limits and settings of <c>POST /api/v1/predictions:batch</c>. Section <c>Batch</c>.</summary>
public sealed class BatchOptions : IValidatableObject
{
    public const string Section = "Batch";

    /// <summary>Most records in one batch request; beyond it the request is refused with 413 before anything is scored.</summary>
    [Range(1, 1_000_000)]
    public int MaxRecords { get; set; } = 1000;

    /// <summary>Largest batch request body in bytes (all parts together); 413 beyond. Default 256 MiB.</summary>
    [Range(1024, 1L << 40)]
    public long MaxRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most files in one batch request, zip entries included; 413 beyond.</summary>
    [Range(1, 10_000_000)]
    public int MaxFiles { get; set; } = 10_000;

    /// <summary>Most bytes the zip entries of one request may declare together; 413 beyond. Default 1 GiB.</summary>
    [Range(1024, 1L << 42)]
    public long MaxDecompressedBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Records of one request in flight at once (read, preprocessed, queued or waiting for their turn to be written):
    /// the bound on the memory a request uses. At least the max batch size, so records fill whole batches.
    /// </summary>
    [Range(1, 4096)]
    public int Window { get; set; } = 32;

    /// <summary>Batch requests served at once; more are refused with 503 and Retry-After.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>How long a record keeps waiting for room in its lane before it is answered 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan QueueWait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Folder for the spooled upload (deleted when the request ends); empty: the system's temporary folder.</summary>
    public string? SpoolDirectory { get; set; }

    public string SpoolPath => string.IsNullOrWhiteSpace(SpoolDirectory) ? Path.GetTempPath() : SpoolDirectory;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(SpoolDirectory) && !Directory.Exists(SpoolDirectory))
        {
            yield return new ValidationResult($"Batch:SpoolDirectory '{SpoolDirectory}' does not exist.", [nameof(SpoolDirectory)]);
        }

        if (MaxFiles < MaxRecords)
        {
            yield return new ValidationResult("Batch:MaxFiles must be at least Batch:MaxRecords (every record has a file).", [nameof(MaxFiles)]);
        }
    }
}
