using System.Globalization;
using System.Net.Http.Headers;
using Ecg2Af.Audit;
using Ecg2Af.LocalCluster;
using Ecg2Af.Worker.Tests.Serving;

namespace Ecg2Af.Worker.Tests.Batch;

/// <summary>
/// One real worker process for the batch tests: the stand-in built into an empty repository, its own SQLite audit
/// store, small batch limits (100 records, 48 MiB, a window of 8) so the limits and the window are cheap to reach.
/// </summary>
public sealed class BatchWorkerFixture : IAsyncLifetime
{
    public const int MaxRecords = 100;
    public const long MaxRequestBytes = 48L * 1024 * 1024;
    public const int Window = 8;

    private readonly string _folder = Directory.CreateTempSubdirectory("ecg2af-batch-tests-").FullName;
    private WorkerProcess? _worker;

    internal WorkerProcess Worker => _worker!;

    public string AuditPath => Path.Combine(_folder, "audit.db");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "spool"));
        _worker = await WorkerProcess.StartAsync(Path.Combine(_folder, "models"), new Dictionary<string, string>
        {
            ["Audit__SqlitePath"] = AuditPath,
            ["Batch__MaxRecords"] = MaxRecords.ToString(CultureInfo.InvariantCulture),
            ["Batch__MaxRequestBytes"] = MaxRequestBytes.ToString(CultureInfo.InvariantCulture),
            ["Batch__Window"] = Window.ToString(CultureInfo.InvariantCulture),
            ["Batch__SpoolDirectory"] = Path.Combine(_folder, "spool"),
        });
    }

    public async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    public IAuditStore OpenAudit() => new SqliteAuditStore(AuditPath, TimeSpan.FromSeconds(10));

    /// <summary>A multipart upload: name and email fields (when given), then the files as <c>ecg</c> parts under the given names.</summary>
    public static MultipartFormDataContent Form(IEnumerable<(string Name, byte[] Bytes)> files, string? name = "Batch Tester", string? email = "batch@example.org")
    {
        var form = new MultipartFormDataContent();
        if (name is not null)
        {
            form.Add(new StringContent(name), "name");
        }

        if (email is not null)
        {
            form.Add(new StringContent(email), "email");
        }

        foreach (var (fileName, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "ecg", fileName);
        }

        return form;
    }

    /// <summary>Every file of ../shared/ecg-samples (the manifest aside), by path inside the folder, in name order.</summary>
    public static List<(string Name, byte[] Bytes)> Samples()
    {
        var root = RepositoryLayout.SharedFile("ecg-samples");
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(p => Path.GetFileName(p) != "MANIFEST.md")
            .Select(p => (Path.GetRelativePath(root, p).Replace('\\', '/'), File.ReadAllBytes(p)))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Files no reader can use, each for its own reason.</summary>
    public static List<(string Name, byte[] Bytes)> Broken()
    {
        var noise = new byte[4096];
        new Random(7).NextBytes(noise);
        var muse = File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml"));
        return
        [
            ("broken/notes.txt", "Shopping list: milk, eggs, bread.\n"u8.ToArray()),
            ("broken/empty.csv", []),
            ("broken/truncated.xml", muse[..3000]),
            ("broken/orphan.hea", "orphan 2 500 5000\norphan.dat 16 200 16 0 0 0 0 I\norphan.dat 16 200 16 0 0 0 0 II\n"u8.ToArray()),
            ("broken/noise.bin", noise),
        ];
    }

    /// <summary>
    /// The records an upload makes, in upload order: files of one folder with the same name before the extension (the
    /// samples' WFDB pairs share it; no other sample does).
    /// </summary>
    public static List<(string Record, List<(string Name, byte[] Bytes)> Files)> Records(IReadOnlyList<(string Name, byte[] Bytes)> files) =>
        files.Select((f, i) => (File: f, Index: i))
            .GroupBy(f => Path.Combine(Path.GetDirectoryName(f.File.Name) ?? "", Path.GetFileNameWithoutExtension(f.File.Name)).Replace('\\', '/'))
            .OrderBy(g => g.Min(f => f.Index))
            .Select(g => (g.Key, g.Select(f => f.File).ToList()))
            .ToList();
}
