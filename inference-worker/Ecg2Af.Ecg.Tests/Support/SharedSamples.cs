using System.Collections.Concurrent;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Ecg.Tests.Support;

/// <summary>
/// The real third-party ECG files in <c>../shared/ecg-samples</c>, next to the repository root. They are read in place,
/// never copied into the repository. When they are missing every test that needs them fails (never skips), with or
/// without <c>CI=true</c>.
/// </summary>
internal static class SharedSamples
{
    private static readonly ConcurrentDictionary<string, byte[]> Cache = new(StringComparer.Ordinal);

    private static readonly Lazy<string> Root = new(FindSamples);

    public static string Directory => Root.Value;

    public static string PathOf(string relative)
    {
        var path = Path.Combine(Directory, relative);
        return System.IO.File.Exists(path)
            ? path
            : throw new FileNotFoundException($"Shared ECG sample '{relative}' is missing from {Directory}.", path);
    }

    public static byte[] Bytes(string relative) => Cache.GetOrAdd(relative, r => System.IO.File.ReadAllBytes(PathOf(r)));

    public static EcgFile File(string relative) => new(Path.GetFileName(relative), Bytes(relative));

    /// <summary>Reads a record from one or more sample files.</summary>
    public static EcgRecording Read(params string[] relative) => Read(EcgReadOptions.Default, relative);

    public static EcgRecording Read(EcgReadOptions options, params string[] relative) =>
        EcgReader.Read(relative.Select(File).ToList(), options);

    /// <summary>A WFDB record by its path without extension, e.g. <c>wfdb/100</c>; the data file's extension is given.</summary>
    public static EcgFile[] Wfdb(string record, string dataExtension = ".dat") =>
        [File(record + ".hea"), File(record + dataExtension)];

    private static string FindSamples()
    {
        var repository = RepositoryRoot();
        var samples = Path.GetFullPath(Path.Combine(repository, "..", "shared", "ecg-samples"));
        var ci = Environment.GetEnvironmentVariable("CI");
        return System.IO.Directory.Exists(samples) && System.IO.File.Exists(Path.Combine(samples, "MANIFEST.md"))
            ? samples
            : throw new DirectoryNotFoundException(
                $"The shared ECG samples are missing: expected {samples} (../shared/ecg-samples beside the repository root {repository}). " +
                $"Tests that use them fail rather than skip (CI={ci ?? "unset"}).");
    }

    /// <summary>The folder holding <c>Ecg2Af.sln</c>.</summary>
    public static string RepositoryRoot() => RepositoryLayout.Root;
}
