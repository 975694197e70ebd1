namespace Ecg2Af.Inference;

/// <summary>The on-disk layout of a model repository: <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.onnx + model.json</c>.</summary>
public static class ModelRepositoryLayout
{
    /// <summary>The highest numeric version directory of a model that holds a <c>model.onnx</c>, or null.</summary>
    public static string? LatestVersion(string modelRoot) =>
        Directory.Exists(modelRoot)
            ? Directory.EnumerateDirectories(modelRoot)
                .Select(d => (Path: d, Number: long.TryParse(Path.GetFileName(d), out var n) ? n : -1))
                .Where(d => d.Number >= 0 && File.Exists(Path.Combine(d.Path, ModelFiles.Onnx)))
                .OrderByDescending(d => d.Number)
                .Select(d => d.Path)
                .FirstOrDefault()
            : null;
}
