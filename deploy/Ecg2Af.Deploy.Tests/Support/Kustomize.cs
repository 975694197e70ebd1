using System.Text.Json.Nodes;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// <c>kustomize build</c> for the subset of kustomize the project's manifests use: <c>resources</c> (files and
/// directories holding a kustomization), <c>patches</c> (strategic merge, by target kind and name or by the
/// patch's own kind and name), <c>labels</c> (added to each resource's metadata) and <c>images</c> (newName,
/// newTag). Any other field fails the build, so the manifests cannot quietly rely on something not checked here.
/// </summary>
public static class Kustomize
{
    private static readonly HashSet<string> Supported = ["apiVersion", "kind", "resources", "patches", "labels", "images"];

    /// <summary>Merge keys of the lists a strategic merge patch merges item by item (Kubernetes' patchMergeKey).</summary>
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["imagePullSecrets"] = "name",
        ["volumeMounts"] = "mountPath",
        ["ports"] = "containerPort",
    };

    public static IReadOnlyList<JsonObject> Build(string directory)
    {
        var file = new[] { "kustomization.yaml", "kustomization.yml", "Kustomization" }
            .Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"No kustomization in {directory}");
        var kustomization = Yaml.Load(file).Obj(file);
        var unsupported = kustomization.Select(p => p.Key).Where(k => !Supported.Contains(k)).ToList();
        if (unsupported.Count > 0)
        {
            throw new NotSupportedException($"{file}: fields not understood by this check: {string.Join(", ", unsupported)}");
        }

        var resources = new List<JsonObject>();
        foreach (var resource in kustomization["resources"].Items().Select(r => Path.GetFullPath(Path.Combine(directory, r.Text()!))))
        {
            resources.AddRange(Directory.Exists(resource)
                ? Build(resource)
                : File.Exists(resource) ? Yaml.LoadAll(resource).Select(d => d.Obj(resource))
                : throw new FileNotFoundException($"{file}: resource {resource} does not exist"));
        }

        foreach (var patch in kustomization["patches"].Items())
        {
            var patchPath = Path.Combine(directory, patch["path"].Text() ?? throw new NotSupportedException($"{file}: only patches from files"));
            var body = Yaml.Load(patchPath).Obj(patchPath);
            var kind = patch["target"]?["kind"].Text() ?? body["kind"].Text();
            var name = patch["target"]?["name"].Text() ?? body["metadata"]?["name"].Text();
            var targets = resources.Where(r => r["kind"].Text() == kind && r["metadata"]?["name"].Text() == name).ToList();
            if (targets.Count != 1)
            {
                throw new InvalidOperationException($"{patchPath}: matches {targets.Count} resources ({kind} {name})");
            }

            Merge(targets[0], body, patchPath);
        }

        foreach (var label in kustomization["labels"].Items())
        {
            if (label["includeSelectors"]?.GetValue<bool>() == true || label["includeTemplates"]?.GetValue<bool>() == true)
            {
                throw new NotSupportedException($"{file}: labels with includeSelectors/includeTemplates");
            }

            foreach (var resource in resources)
            {
                var metadata = resource["metadata"].Obj("metadata");
                var labels = metadata["labels"] as JsonObject ?? (JsonObject)(metadata["labels"] = new JsonObject());
                foreach (var (key, value) in label["pairs"].Obj("labels.pairs"))
                {
                    labels[key] = value?.DeepClone();
                }
            }
        }

        foreach (var image in kustomization["images"].Items())
        {
            foreach (var container in resources.SelectMany(Containers))
            {
                var (imageName, tag) = SplitImage(container["image"].Text()!);
                if (imageName == image["name"].Text())
                {
                    container["image"] = $"{image["newName"].Text() ?? imageName}:{image["newTag"].Text() ?? tag ?? "latest"}";
                }
            }
        }

        return resources;
    }

    /// <summary>Containers (and init containers) of a workload's pod template.</summary>
    public static IEnumerable<JsonObject> Containers(JsonObject resource) =>
        (resource["spec"]?["template"]?["spec"] is JsonObject pod ? pod["containers"].Items().Concat(pod["initContainers"].Items()) : [])
            .Cast<JsonObject>();

    public static (string Name, string? Tag) SplitImage(string image)
    {
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, null);
    }

    private static void Merge(JsonObject target, JsonObject patch, string where)
    {
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                throw new NotSupportedException($"{where}: directive {key}");
            }

            if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                Merge(targetObject, patchObject, where);
            }
            else if (value is JsonArray patchList && target[key] is JsonArray targetList && MergeKeys.TryGetValue(key, out var mergeKey))
            {
                // Items the target lacks go first, in patch order (as kustomize writes them); the others merge in place.
                var added = 0;
                foreach (var item in patchList.Cast<JsonObject>())
                {
                    var id = item[mergeKey].Text();
                    if (targetList.OfType<JsonObject>().FirstOrDefault(t => t[mergeKey].Text() == id) is { } existing)
                    {
                        Merge(existing, item, where);
                    }
                    else
                    {
                        targetList.Insert(added++, item.DeepClone());
                    }
                }
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }
}
