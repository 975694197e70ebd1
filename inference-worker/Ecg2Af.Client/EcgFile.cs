namespace Ecg2Af.Client;

/// <summary>
/// One file of an ECG record as it is uploaded: its name (the service reads the format from the name and the
/// content) and its bytes. A WFDB record is two files (<c>.hea</c> and <c>.dat</c> or <c>.mat</c>), or one <c>.zip</c>.
/// </summary>
/// <param name="Name">The file name, e.g. <c>muse-sinus.xml</c>.</param>
/// <param name="Content">The file's bytes.</param>
public sealed record EcgFile(string Name, ReadOnlyMemory<byte> Content)
{
    /// <summary>Reads a file from disk.</summary>
    /// <param name="path">The file's path.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    public static async Task<EcgFile> ReadAsync(string path, CancellationToken cancellationToken = default) =>
        new(Path.GetFileName(path), await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
}

/// <summary>What goes with the ECG file(s) of a prediction, batch or preprocess request. Every field is optional.</summary>
public sealed record EcgUploadOptions
{
    /// <summary>The person's name (the web form's identity when no API key is sent).</summary>
    public string? Name { get; init; }

    /// <summary>The person's email (the web form's identity when no API key is sent).</summary>
    public string? Email { get; init; }

    /// <summary>The ECG's sample rate in hertz, for formats that do not state it (CSV, NumPy); 50 to 20000.</summary>
    public double? SampleRateHz { get; init; }

    /// <summary>The model to use; null for the service's default.</summary>
    public string? Model { get; init; }

    /// <summary>The model version to use; null for the newest ready one.</summary>
    public string? Version { get; init; }

    /// <summary>The scheduling lane: <c>stat</c>, <c>routine</c> (the service's default) or <c>batch</c>.</summary>
    public string? Priority { get; init; }

    /// <summary>Further form fields the service reads (e.g. <c>units</c>, <c>acquisition</c>).</summary>
    public IReadOnlyDictionary<string, string>? Fields { get; init; }
}
