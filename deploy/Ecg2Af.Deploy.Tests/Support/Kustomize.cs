using System.Text.Json.Nodes;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// A kustomization rendered by the real tool, <c>kubectl kustomize</c> (kustomize v4 or later: the manifests use
/// <c>labels</c> and targeted <c>patches</c>), as the list of resources <c>kubectl apply -k</c> would send.
/// </summary>
public static class Kustomize
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Rendered = new(StringComparer.Ordinal);

    /// <summary>The rendered resources, rendered once per directory for the test run and parsed afresh for each caller.</summary>
    public static IReadOnlyList<JsonObject> Build(string directory) =>
        Yaml.LoadAllText(Rendered.GetOrAdd(directory, d => new Lazy<string>(() => Tool.Run("kubectl", ["kustomize", d], d))).Value, $"kubectl kustomize {directory}")
            .Select(d => d.Obj(directory)).ToList();

    /// <summary>Containers (and init containers) of a workload's pod template.</summary>
    public static IEnumerable<JsonObject> Containers(JsonObject resource) =>
        (resource["spec"]?["template"]?["spec"] is JsonObject pod ? pod["containers"].Items().Concat(pod["initContainers"].Items()) : [])
            .Cast<JsonObject>();
}
