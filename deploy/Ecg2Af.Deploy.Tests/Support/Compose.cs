using System.Text.Json.Nodes;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>A Compose file and the facts about its services the tests compare.</summary>
public sealed class Compose
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Rendered = new(StringComparer.Ordinal);

    private Compose(string path, JsonObject document)
    {
        Path = path;
        Document = document;
        Services = document["services"].Obj($"{path}: services").ToDictionary(s => s.Key, s => s.Value.Obj(s.Key), StringComparer.Ordinal);
    }

    public string Path { get; }

    public JsonObject Document { get; }

    public IReadOnlyDictionary<string, JsonObject> Services { get; }

    public static Compose Main => Load("docker-compose.yml");

    public static Compose Scale => Load("docker-compose.scale.yml");

    /// <summary>The TLS override on top of docker-compose.yml, merged as <c>docker-compose -f … -f …</c> merges them.</summary>
    public static Compose Tls => Load("docker-compose.yml", "docker-compose.tls.yml");

    /// <summary>
    /// The files as the real tool sees them: <c>docker-compose config</c> (Debian's docker-compose) validates them
    /// against the Compose schema, merges overrides, and resolves <c>${VAR:-default}</c> with the defaults, since it
    /// runs in an environment holding only the one variable the scaled deployment demands be set.
    /// </summary>
    public static Compose Load(string name, params string[] overrides)
    {
        // Rendered once per set of files for the whole test run (the files do not change meanwhile); parsed per call, so
        // no test sees another's changes to the tree.
        var files = string.Join(' ', [name, .. overrides]);
        var rendered = Rendered.GetOrAdd(files, _ => new Lazy<string>(() =>
            Render([name, .. overrides], new Dictionary<string, string> { ["GRAFANA_ADMIN_PASSWORD"] = "compose-config-check" }))).Value;
        return new Compose(System.IO.Path.Combine(RepositoryLayout.Root, name), Yaml.LoadAllText(rendered, $"docker-compose -f {files} config").Single().Obj(name));
    }

    /// <summary><c>docker-compose -f F1 -f F2 … config</c> in exactly <paramref name="environment"/>: the merged, checked file.</summary>
    public static string Render(IEnumerable<string> files, IReadOnlyDictionary<string, string> environment) =>
        Tool.Run("docker-compose", [.. files.SelectMany(f => new[] { "-f", System.IO.Path.Combine(RepositoryLayout.Root, f) }), "config"], RepositoryLayout.Root, environment);

    /// <summary>The service's published ports as <c>[address:]published:target</c> (the tool writes short and long forms).</summary>
    public IEnumerable<string> Ports(string service) => Services[service]["ports"].Items().Select(p => p is JsonObject port
        ? $"{(port["host_ip"].Text() is { } ip ? ip + ":" : "")}{port["published"].Text()}:{port["target"].Text()}"
        : p.Text()!.Replace("/tcp", "", StringComparison.Ordinal));

    /// <summary>The Dockerfile a service builds, or null for a service that runs a published image.</summary>
    public Dockerfile? DockerfileOf(string service) =>
        Services[service]["build"] is JsonObject build
            ? Dockerfile.Load(System.IO.Path.Combine(BuildContext(service)!, build["dockerfile"].Text() ?? "Dockerfile"))
            : null;

    public string? BuildContext(string service) =>
        Services[service]["build"] is JsonObject build
            ? System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, build["context"].Text() ?? "."))
            : null;

    /// <summary>The service's environment (map or list form).</summary>
    public IReadOnlyDictionary<string, string?> Environment(string service) => Services[service]["environment"] switch
    {
        JsonObject map => map.ToDictionary(p => p.Key, p => p.Value.Text(), StringComparer.Ordinal),
        JsonArray list => list.Select(i => i.Text()!.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : null, StringComparer.Ordinal),
        _ => new Dictionary<string, string?>(),
    };

    /// <summary>The environment the process sees: the image's ENV, then the service's (Compose wins).</summary>
    public IReadOnlyDictionary<string, string?> EffectiveEnvironment(string service)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in DockerfileOf(service)?.Final.Environment() ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        foreach (var (key, value) in Environment(service))
        {
            env[key] = value;
        }

        return env;
    }

    /// <summary>The names a service is reachable by on the default network: its own and its aliases.</summary>
    public IEnumerable<string> DnsNames(string service) =>
        new[] { service }.Concat(Services[service]["networks"]?["default"]?["aliases"].Items().Select(a => a.Text()!) ?? []);

    /// <summary>Resolves Compose's ${VAR:-default} with the default.</summary>
    public static string Interpolate(string value) =>
        System.Text.RegularExpressions.Regex.Replace(value, @"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", m => m.Groups[1].Value);
}
