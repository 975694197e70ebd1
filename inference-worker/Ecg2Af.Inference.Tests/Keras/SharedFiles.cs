using Ecg2Af.LocalCluster;

namespace Ecg2Af.Inference.Tests.Keras;

/// <summary>
/// Files under the read-only <c>shared/</c> folder beside the repository (found as <c>../shared</c> from the folder that
/// holds <c>Ecg2Af.sln</c>). They are never copied into the repository; a test that needs one fails when it is missing
/// (in CI and locally alike), it never skips.
/// </summary>
internal static class SharedFiles
{
    public static string Path(params string[] parts)
    {
        var root = RepositoryLayout.Root;
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine([root, "..", "shared", .. parts]));
        if (!File.Exists(path))
        {
            var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
            Assert.Fail($"Shared test file {path} is missing{(ci ? " in CI" : "")}: the shared/ folder must sit beside the repository.");
        }

        return path;
    }
}
