namespace Ecg2Af.Security;

/// <summary>
/// The development key of the local run: <c>data/dev-api-key</c> at the repository root (git-ignored, mode 0600,
/// one line: the key), created by the AppHost on first start when no key is configured. Clients (the load tool, the
/// CLI's <c>--url</c> mode) find a key in this order: the command line, <c>ECG2AF_API_KEY</c>, that file.
/// </summary>
public static class DevApiKey
{
    public const string RelativePath = "data/dev-api-key";
    public const string EnvironmentVariable = "ECG2AF_API_KEY";

    /// <summary>The id the local run configures the development key under.</summary>
    public const string Id = "dev";

    /// <summary>Reads the key in <paramref name="path"/>, or creates the file (mode 0600) with a new key.</summary>
    public static (string Key, bool Created) ReadOrCreate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path) && Read(path) is { } existing)
        {
            return (existing, false);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = ApiKeyGenerator.Create();
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options))
        {
            writer.Write(key + "\n");
        }

        if (!OperatingSystem.IsWindows())
        {
            // An existing empty file keeps its mode on truncation: make sure it is 0600.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return (key, true);
    }

    /// <summary>
    /// The key a client should send: <paramref name="explicitKey"/>, else <c>ECG2AF_API_KEY</c>, else the first
    /// <c>data/dev-api-key</c> in <paramref name="startFolder"/> (default: the current directory) or a folder above it.
    /// Null when there is none.
    /// </summary>
    public static string? Find(string? explicitKey, string? startFolder = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitKey))
        {
            return explicitKey.Trim();
        }

        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment.Trim();
        }

        for (var folder = new DirectoryInfo(startFolder ?? Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, RelativePath);
            if (File.Exists(path) && Read(path) is { } key)
            {
                return key;
            }
        }

        return null;
    }

    private static string? Read(string path) => File.ReadLines(path).FirstOrDefault()?.Trim() is { Length: > 0 } key ? key : null;
}
