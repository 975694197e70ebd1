using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Worker.Uploads;

/// <summary>Limits on what one prediction request may upload. Section <c>Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>Largest request body in bytes (all files and fields together). Default 32 MiB.</summary>
    [Range(1024, 1L << 32)]
    public long MaxRequestBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Most files in one prediction request (the parts of one record).</summary>
    [Range(1, 1000)]
    public int MaxFiles { get; set; } = 16;
}
