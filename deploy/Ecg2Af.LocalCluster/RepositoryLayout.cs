using System.Reflection;

namespace Ecg2Af.LocalCluster;

/// <summary>Where things are in a checkout: the repository root, the built services, and <c>../shared</c>.</summary>
public static class RepositoryLayout
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder holding <c>Ecg2Af.sln</c>, found by walking up from the running binaries.</summary>
    public static string Root => RootPath.Value;

    /// <summary>The build configuration this assembly was built in; the services are taken from the same one.</summary>
    public static string Configuration { get; } =
        typeof(RepositoryLayout).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static string GatewayDll => ServiceDll("gateway", "Ecg2Af.Gateway");

    public static string WorkerDll => ServiceDll("inference-worker", "Ecg2Af.Worker");

    /// <summary>
    /// <c>../shared</c> beside the checkout (third-party ECG files and docs; never copied into the repository).
    /// Throws when it is missing, so tests that need it fail rather than skip.
    /// </summary>
    public static string Shared
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(Root, "..", "shared"));
            return Directory.Exists(path)
                ? path
                : throw new DirectoryNotFoundException($"{path} is missing: tests need the shared ECG samples beside the checkout.");
        }
    }

    public static string SharedFile(params string[] parts) => Path.Combine([Shared, .. parts]);

    private static string ServiceDll(string folder, string project)
    {
        var path = Path.Combine(Root, folder, project, "bin", Configuration, "net10.0", project + ".dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is not built; build {project} in {Configuration} first.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ecg2Af.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No Ecg2Af.sln above {AppContext.BaseDirectory}.");
    }
}
