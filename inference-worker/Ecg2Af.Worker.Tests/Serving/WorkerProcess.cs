using System.Globalization;
using System.Net;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Worker.Tests.Serving;

/// <summary>
/// A real worker process (<c>dotnet Ecg2Af.Worker.dll</c>) on 127.0.0.1 with an ephemeral port, configured through
/// environment variables, with helpers to scrape its Prometheus metrics.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private WorkerProcess(ServiceProcess process, TestApiKey apiKey)
    {
        Process = process;
        ApiKey = apiKey;
        Client = apiKey.Authorize(new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 128 })
        {
            BaseAddress = process.Url,
            Timeout = TimeSpan.FromSeconds(120),
        });
    }

    /// <summary>The key the worker accepts (<c>Security:ApiKeys:0</c>, scopes predict and admin); <see cref="Client"/> sends it.</summary>
    public TestApiKey ApiKey { get; }

    public ServiceProcess Process { get; }

    public HttpClient Client { get; }

    public Uri Url => Process.Url;

    public static async Task<WorkerProcess> StartAsync(string repository, IReadOnlyDictionary<string, string>? settings = null)
    {
        // A direct call to a worker needs a key, as it would for a user: the worker checks it itself.
        var apiKey = TestApiKey.Create("worker-tests", [Ecg2Af.Security.ApiKeyScopes.Predict, Ecg2Af.Security.ApiKeyScopes.Admin]);
        var environment = new Dictionary<string, string>(apiKey.Settings(0));
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        environment["Model__RepositoryPath"] = repository;
        environment["Worker__InstanceId"] = "test-worker";
        var process = await ServiceProcess.StartAsync("worker", RepositoryLayout.WorkerDll, environment, 0, TimeSpan.FromSeconds(120));
        try
        {
            await LocalCluster.LocalCluster.WaitReadyAsync(process, TimeSpan.FromSeconds(120));
            return new WorkerProcess(process, apiKey);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends SIGTERM (a graceful stop) without waiting for the exit.</summary>
    public void Terminate()
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", Process.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The sum of every sample of <paramref name="name"/> whose labels contain all of <paramref name="labels"/>.</summary>
    public async Task<double> MetricAsync(string name, params string[] labels)
    {
        var text = await Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != ' ' && rest[0] != '{'))
            {
                continue;
            }

            if (labels.All(l => rest.Contains(l, StringComparison.Ordinal)))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>
    /// Polls until <paramref name="condition"/> holds (at most <paramref name="timeout"/>); a timeout reports the worker's
    /// inference metrics and its log.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                var metrics = (await Client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
                    .Split('\n')
                    .Where(l => l.StartsWith("ecg2af_inference_requests_total", StringComparison.Ordinal)
                        || l.StartsWith("ecg2af_inference_queue_depth", StringComparison.Ordinal)
                        || l.StartsWith("ecg2af_inference_batch_size_count", StringComparison.Ordinal));
                throw new TimeoutException(
                    $"Timed out after {timeout} waiting for {what}. Inference metrics:\n{string.Join('\n', metrics)}\nWorker output:\n{Process.Output}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
    }
}

/// <summary>
/// A model repository with the stand-in ECG2AF built once per test run (<c>ecg2af/1</c>); tests that change a
/// repository work on a copy.
/// </summary>
public sealed class StandInRepository : IDisposable
{
    private readonly List<string> _copies = [];

    public StandInRepository()
    {
        Root = Directory.CreateTempSubdirectory("ecg2af-worker-tests-").FullName;
        StandInModel.Write(Path.Combine(Root, "ecg2af", "1"), name: "ecg2af", version: "1");
    }

    public string Root { get; }

    /// <summary>A fresh repository holding a copy of the stand-in.</summary>
    public string Copy()
    {
        var copy = Directory.CreateTempSubdirectory("ecg2af-worker-repo-").FullName;
        var version = Directory.CreateDirectory(Path.Combine(copy, "ecg2af", "1")).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "ecg2af", "1")))
        {
            File.Copy(file, Path.Combine(version, Path.GetFileName(file)));
        }

        lock (_copies)
        {
            _copies.Add(copy);
        }

        return copy;
    }

    public void Dispose()
    {
        foreach (var directory in _copies.Append(Root))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>
/// Worker-process tests run one class at a time: they share the two cores, and their timing-based scenarios
/// (floods, deadlines, drains) need the CPU to themselves.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WorkerProcessCollection : ICollectionFixture<StandInRepository>
{
    public const string Name = "worker processes";
}

/// <summary>Environment settings for a worker, as <c>Section__Key</c> pairs.</summary>
internal static class Settings
{
    public static Dictionary<string, string> Of(params (string Key, object Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture)!);

    public static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;
}
