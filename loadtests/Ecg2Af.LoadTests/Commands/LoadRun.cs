using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LoadTests.Thresholds;
using Ecg2Af.LocalCluster;
using Ecg2Af.Security;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>What one invocation of the tool runs.</summary>
public sealed record LoadRunOptions
{
    public IReadOnlyList<string> Scenarios { get; init; } = ["smoke"];

    /// <summary>The gateway to load (loopback only); ignored with <see cref="SelfHost"/>.</summary>
    public string Target { get; init; } = "http://127.0.0.1:8080";

    /// <summary>The gateway's gRPC listener (h2c), for gRPC scenarios; ignored with <see cref="SelfHost"/>.</summary>
    public string GrpcTarget { get; init; } = "http://127.0.0.1:8081";

    public bool SelfHost { get; init; }

    /// <summary>Self-host: workers to start (default: the largest the scenarios prefer).</summary>
    public int? Workers { get; init; }

    /// <summary>Self-host: a model repository to reuse (the stand-in is built there when empty).</summary>
    public string? ModelRepository { get; init; }

    /// <summary>Self-host: extra worker settings (environment-variable style keys).</summary>
    public IReadOnlyDictionary<string, string> WorkerSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Self-host: extra gateway settings.</summary>
    public IReadOnlyDictionary<string, string> GatewaySettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Client source addresses (default: the largest the scenarios prefer).</summary>
    public int? Clients { get; init; }

    public LoadOverrides Overrides { get; init; } = new();

    /// <summary>Unmeasured load before each scenario: its first phase, cut to this length. Zero: none.</summary>
    public TimeSpan Warmup { get; init; }

    public RunBounds Bounds { get; init; } = new();

    public IReadOnlyList<Threshold> ExtraThresholds { get; init; } = [];

    /// <summary>Folder the report files go to.</summary>
    public string? Output { get; init; }

    /// <summary>Folder of the ECG samples (default ../shared/ecg-samples beside the checkout).</summary>
    public string? Samples { get; init; }

    public string CommandLine { get; init; } = "";

    /// <summary>
    /// The API key to send (<c>--api-key</c>); null: <c>ECG2AF_API_KEY</c>, else <c>data/dev-api-key</c>. Self-host
    /// uses the key of the cluster it starts.
    /// </summary>
    public string? ApiKey { get; init; }
}

/// <summary>
/// One run of the tool: optionally self-hosts the gateway and workers, runs each scenario against the gateway over
/// HTTP, prints the table and writes report.md, report.json and report.html. Exit code 0 when every threshold
/// passed, 1 when one failed.
/// </summary>
public static class LoadRun
{
    public const int ThresholdsFailed = 1;
    public const int UsageError = 2;

    public static async Task<(int ExitCode, RunReport Report, IReadOnlyList<string> Files)> ExecuteAsync(
        LoadRunOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var name in options.Scenarios)
        {
            if (!ScenarioCatalog.Names.Contains(name))
            {
                throw new ArgumentException($"Unknown scenario '{name}'. Known: {string.Join(", ", ScenarioCatalog.Names)}.");
            }
        }

        var samples = options.Samples ?? Path.Combine(RepositoryLayout.Shared, "ecg-samples");
        var payloads = Payloads.Load(samples);
        var workers = options.Workers ?? options.Scenarios.Max(ScenarioCatalog.PreferredWorkers);
        var clients = options.Clients ?? options.Scenarios.Max(ScenarioCatalog.PreferredClients);

        LocalCluster.LocalCluster? cluster = null;
        try
        {
            Uri target;
            Uri grpcTarget;
            string? apiKey;
            if (options.SelfHost)
            {
                output.WriteLine($"Self-hosting the gateway and {workers} worker(s) ({RepositoryLayout.Configuration} build)...");
                cluster = await SelfHost.StartAsync(workers, options.ModelRepository, options.WorkerSettings, options.GatewaySettings, cancellationToken);
                target = cluster.GatewayUrl;
                grpcTarget = cluster.GatewayGrpcUrl;
                apiKey = cluster.ApiKey.Key;
                output.WriteLine($"Gateway at {target}; workers at {string.Join(", ", cluster.WorkerUrls)}");
            }
            else
            {
                target = LoopbackTarget.Parse(options.Target);
                grpcTarget = LoopbackTarget.Parse(options.GrpcTarget);
                apiKey = DevApiKey.Find(options.ApiKey, RootOrCurrent());
                output.WriteLine(apiKey is null
                    ? $"No API key (--api-key, {DevApiKey.EnvironmentVariable} or {DevApiKey.RelativePath}): routes that need one will answer 401."
                    : "Sending an API key (Authorization: Bearer).");
            }

            using var control = ClientPool.Authorize(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, apiKey);
            if (options.Scenarios.Any(ScenarioCatalog.NeedsTensor))
            {
                await payloads.LoadTensorAsync(control, target, cancellationToken);
            }

            var info = new RunInfo(DateTimeOffset.UtcNow, MachineInfo.Commit(RootOrCurrent()), MachineInfo.CpuModel(), Environment.ProcessorCount,
                MachineInfo.LoadAverage(), target.ToString(), options.SelfHost, options.SelfHost ? workers : null, clients, options.CommandLine);
            using var pool = new ClientPool(clients, options.Bounds.RequestTimeout, connectionsPerClient: 64, apiKey);
            using var grpc = options.Scenarios.Any(ScenarioCatalog.NeedsGrpc) ? new GrpcClientPool(grpcTarget, clients, options.Bounds.RequestTimeout, apiKey) : null;
            var runner = new ScenarioRunner(pool, options.Bounds);
            var reports = new List<ScenarioReport>();
            foreach (var name in options.Scenarios)
            {
                var scenario = ScenarioCatalog.Create(name, target, payloads, options.Overrides, grpc);
                if (options.Warmup > TimeSpan.Zero)
                {
                    output.WriteLine($"Warming up {scenario.Name} for {options.Warmup.TotalSeconds:0.#} s (not measured)...");
                    await runner.WarmUpAsync(scenario, options.Warmup, cancellationToken);
                }

                output.WriteLine($"Running {scenario.Name}: {scenario.DescribeLoad()} over {clients} client addresses...");
                var before = await GatewayMetrics.ReadAsync(control, target, cancellationToken);
                var result = await runner.RunAsync(scenario, cancellationToken);
                var after = await GatewayMetrics.ReadAsync(control, target, cancellationToken);
                reports.Add(ReportBuilder.Build(result, GatewayMetrics.Difference(before, after), options.ExtraThresholds));
            }

            var report = new RunReport(info with { LoadAverage = $"{info.LoadAverage} → {MachineInfo.LoadAverage()}" }, reports);
            output.Write(ConsoleReport.Render(report));
            var folder = options.Output ?? Path.Combine(Environment.CurrentDirectory, "load-reports", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
            var files = ReportFiles.Write(report, folder);
            output.WriteLine($"Reports: {string.Join(", ", files)}");
            return (report.Passed ? 0 : ThresholdsFailed, report, files);
        }
        finally
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
        }
    }

    /// <summary>Prints a command's Markdown result and, when a folder is given, writes it there as <paramref name="fileName"/>.</summary>
    public static async Task PrintMarkdownAsync(string markdown, string? folder, string fileName, CancellationToken cancellationToken)
    {
        Console.WriteLine(markdown);
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, fileName), markdown, cancellationToken);
        }
    }

    private static string RootOrCurrent()
    {
        try
        {
            return RepositoryLayout.Root;
        }
        catch (DirectoryNotFoundException)
        {
            return Environment.CurrentDirectory;
        }
    }
}

/// <summary>Starts the real gateway and workers as child processes on loopback (LocalCluster), quiet and ready.</summary>
public static class SelfHost
{
    /// <summary>The key every cluster this process starts accepts (predict and admin, no practical rate limit).</summary>
    public static TestApiKey Key { get; } = TestApiKey.Create("load-tool", [ApiKeyScopes.Predict, ApiKeyScopes.Admin], permitsPerSecond: 100_000, burst: 100_000);

    public static Task<LocalCluster.LocalCluster> StartAsync(
        int workers, string? modelRepository, IReadOnlyDictionary<string, string> workerSettings, IReadOnlyDictionary<string, string> gatewaySettings,
        CancellationToken cancellationToken)
    {
        var worker = new Dictionary<string, string>
        {
            // One log line per prediction is noise under load (the process output is only kept for diagnostics).
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (key, value) in workerSettings)
        {
            worker[key] = value;
        }

        var gateway = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (key, value) in gatewaySettings)
        {
            gateway[key] = value;
        }

        if (modelRepository is not null)
        {
            Directory.CreateDirectory(modelRepository);
        }

        return LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions
        {
            ApiKey = Key,
            Workers = workers,
            ModelRepository = modelRepository is null ? null : Path.GetFullPath(modelRepository),
            WorkerSettings = worker,
            GatewaySettings = gateway,
            StartTimeout = TimeSpan.FromMinutes(3),
        }, cancellationToken);
    }
}
