using System.ComponentModel.DataAnnotations;
using Ecg2Af.Inference.Runtime;

namespace Ecg2Af.Worker.Models;

/// <summary>Where the worker finds its model and how it runs it. Section <c>Model</c>.</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>The model name the stand-in is built under.</summary>
    public const string StandInName = "ecg2af";

    /// <summary>Model repository root: <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.onnx + model.json</c>. Relative paths are taken from the working directory.</summary>
    [Required]
    public string RepositoryPath { get; set; } = "models";

    /// <summary>The model served by default.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public string Name { get; set; } = "ecg2af";

    /// <summary>Build the stand-in ECG2AF model into <c>&lt;root&gt;/ecg2af/1</c> when the default model has no version yet.</summary>
    public bool BuildStandInWhenMissing { get; set; } = true;

    [Required]
    public RuntimeOptions Runtime { get; set; } = new();
}
