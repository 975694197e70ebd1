using System.ComponentModel.DataAnnotations;
using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.Inference.Repository;

/// <summary>Where the worker finds its models, how it watches them and how it runs them. Section <c>Model</c>.</summary>
public sealed class ModelRepositoryOptions
{
    public const string Section = "Model";

    /// <summary>The model name the stand-in is built under.</summary>
    public const string StandInName = "ecg2af";

    /// <summary>Model and version directory names: a letter or digit, then letters, digits, '.', '_' or '-'.</summary>
    public const string NamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

    /// <summary>Model repository root: <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.onnx + model.json</c>. Relative paths are taken from the working directory.</summary>
    [Required]
    public string RepositoryPath { get; set; } = "models";

    /// <summary>The model served when a request names none; the worker is ready once it serves.</summary>
    [Required]
    [RegularExpression(NamePattern)]
    public string Name { get; set; } = StandInName;

    /// <summary>Build the stand-in ECG2AF model into <c>&lt;root&gt;/ecg2af/1</c> when the default model has no version yet.</summary>
    public bool BuildStandInWhenMissing { get; set; } = true;

    /// <summary>How often the repository is rescanned for new, changed and removed versions.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a new or changed version's files must stay unchanged (size and write time) before it is loaded, so a
    /// copy still in progress is not picked up half-written. Versions present at start-up load at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Rescan as soon as the file system reports a change under the root (the poll still runs as a backstop).</summary>
    public bool WatchFileSystem { get; set; } = true;

    [Required]
    public RuntimeOptions Runtime { get; set; } = new();
}
