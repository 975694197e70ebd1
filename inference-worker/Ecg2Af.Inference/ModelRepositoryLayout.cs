using Ecg2Af.Inference.Repository;

namespace Ecg2Af.Inference;

/// <summary>The on-disk layout of a model repository: <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.onnx + model.json</c>.</summary>
public static class ModelRepositoryLayout
{
    /// <summary>
    /// The latest version directory of a model holding both files, in the worker's version order
    /// (<see cref="VersionOrder"/>: "2" &lt; "10", "2021-05-21" &lt; "2024-01-13"), or null.
    /// </summary>
    public static string? LatestVersion(string modelRoot) =>
        Directory.Exists(modelRoot)
            ? Directory.EnumerateDirectories(modelRoot)
                .Where(d => !Path.GetFileName(d).StartsWith('.')
                    && File.Exists(Path.Combine(d, ModelFiles.Onnx)) && File.Exists(Path.Combine(d, ModelFiles.Signature)))
                .OrderByDescending(d => Path.GetFileName(d), VersionOrder.Instance)
                .FirstOrDefault()
            : null;
}
