using System.Globalization;
using System.Net;
using Ecg2Af.Security;

namespace Ecg2Af.LocalCluster;

/// <summary>
/// The real gateway in front of N real workers, each its own process on a loopback port. Workers can be killed and
/// restarted on the same port, as a crash and a redeploy would. Each worker gets its share of the cores
/// (<see cref="WorkerCores"/>, as under the AppHost); a <c>DOTNET_PROCESSOR_COUNT</c> worker setting overrides it.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string ClusterId = "workers";

    /// <summary>The gateway's cluster of the workers' gRPC (h2c) endpoints: the same destination ids.</summary>
    public const string GrpcClusterId = "workers-grpc";
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly LocalClusterOptions _options;
    private readonly ServiceProcess?[] _workers;
    private readonly int[] _workerPorts;
    private readonly int[] _workerGrpcPorts;
    private readonly int _gatewayGrpcPort;
    private readonly string? _ownedRepository;
    private readonly string? _ownedAuditFolder;

    private LocalCluster(LocalClusterOptions options, string modelRepository, string? ownedRepository)
    {
        _options = options;
        ModelRepository = modelRepository;
        _ownedRepository = ownedRepository;
        if (!options.WorkerSettings.ContainsKey("Audit__SqlitePath") && !options.WorkerSettings.ContainsKey("Audit__PostgresConnectionString"))
        {
            // Unless told otherwise, the workers share one audit file of the cluster's own, not one beside the binaries.
            _ownedAuditFolder = Directory.CreateTempSubdirectory("ecg2af-audit-").FullName;
            AuditSqlitePath = Path.Combine(_ownedAuditFolder, "audit.db");
        }
        else
        {
            AuditSqlitePath = options.WorkerSettings.GetValueOrDefault("Audit__SqlitePath");
        }
        ApiKey = options.ApiKey ?? TestApiKey.Create("local-cluster", [ApiKeyScopes.Predict, ApiKeyScopes.Admin], permitsPerSecond: 100_000, burst: 100_000);
        _workers = new ServiceProcess?[options.Workers];
        _workerPorts = new int[options.Workers];
        // gRPC listens on a port of its own, chosen here (it must be known before start and kept across restarts).
        _workerGrpcPorts = [.. Enumerable.Range(0, options.Workers).Select(_ => FreePort())];
        _gatewayGrpcPort = FreePort();
    }

    public ServiceProcess Gateway { get; private set; } = null!;

    /// <summary>
    /// The key the gateway and workers accept (entry 0 of <c>Security:ApiKeys</c>, unless the settings configure that
    /// entry themselves): scopes predict and admin. Clients send it with <see cref="TestApiKey.Authorize(HttpClient)"/>.
    /// </summary>
    public TestApiKey ApiKey { get; }

    public Uri GatewayUrl => Gateway.Url;

    public string ModelRepository { get; }

    /// <summary>The SQLite audit file the workers share (null when they were given a PostgreSQL connection string).</summary>
    public string? AuditSqlitePath { get; }

    /// <summary>The main gateway's gRPC listener (h2c, prior knowledge).</summary>
    public Uri GatewayGrpcUrl => new($"http://127.0.0.1:{_gatewayGrpcPort}/");

    /// <summary>Each worker's gRPC listener (h2c, prior knowledge).</summary>
    public IReadOnlyList<Uri> WorkerGrpcUrls => _workerGrpcPorts.Select(p => new Uri($"http://127.0.0.1:{p}/")).ToList();

    public IReadOnlyList<Uri> WorkerUrls => _workerPorts.Select(p => new Uri($"http://127.0.0.1:{p}/")).ToList();

    /// <summary>The destination id the gateway knows worker <paramref name="index"/> by (also its instance id).</summary>
    public static string WorkerId(int index) => $"worker-{index}";

    public ServiceProcess Worker(int index) => _workers[index] ?? throw new InvalidOperationException($"{WorkerId(index)} is not running.");

    public static async Task<LocalCluster> StartAsync(LocalClusterOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LocalClusterOptions();
        string? owned = null;
        var repository = options.ModelRepository;
        if (repository is null)
        {
            owned = repository = Directory.CreateTempSubdirectory("ecg2af-models-").FullName;
        }

        var cluster = new LocalCluster(options, repository, owned);
        try
        {
            // The first worker builds the stand-in when the repository is empty; the others then only load it.
            await cluster.StartWorkerAsync(0, port: 0, cancellationToken);
            await Task.WhenAll(Enumerable.Range(1, options.Workers - 1).Select(i => cluster.StartWorkerAsync(i, 0, cancellationToken)));

            var gatewaySettings = new Dictionary<string, string> { ["Gateway__GrpcPort"] = Invariant(cluster._gatewayGrpcPort) };
            cluster.Gateway = await ServiceProcess.StartAsync("gateway", RepositoryLayout.GatewayDll, cluster.GatewayEnvironment(gatewaySettings, true),
                options.GatewayPort, options.StartTimeout, cancellationToken);
            await WaitReadyAsync(cluster.Gateway, options.StartTimeout, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills worker <paramref name="index"/> at once (SIGKILL).</summary>
    public async Task KillWorkerAsync(int index)
    {
        if (_workers[index] is { } worker)
        {
            await worker.KillAsync();
            await worker.DisposeAsync();
            _workers[index] = null;
        }
    }

    /// <summary>Starts worker <paramref name="index"/> again on its old port and waits until it is ready.</summary>
    public Task RestartWorkerAsync(int index, CancellationToken cancellationToken = default) =>
        StartWorkerAsync(index, _workerPorts[index], null, waitUntilReady: true, cancellationToken);

    /// <summary>
    /// Starts worker <paramref name="index"/> again on its old port with <paramref name="settings"/> on top of the
    /// cluster's worker settings (for example a model repository that never finishes loading), waiting until it
    /// listens and, when <paramref name="waitUntilReady"/>, until it is ready. Kill it first.
    /// </summary>
    public Task RestartWorkerAsync(int index, IReadOnlyDictionary<string, string> settings, bool waitUntilReady, CancellationToken cancellationToken = default)
    {
        if (_workers[index] is not null)
        {
            throw new InvalidOperationException($"{WorkerId(index)} is still running; kill it first.");
        }

        return StartWorkerAsync(index, _workerPorts[index], settings, waitUntilReady, cancellationToken);
    }

    /// <summary>
    /// Starts another gateway process (caller disposes it) on a free port, with <paramref name="settings"/> on top
    /// of the cluster's gateway settings; with <paramref name="withWorkerDestinations"/> its destinations are the
    /// cluster's workers under the same ids as the main gateway's. Returns once it is ready.
    /// </summary>
    public async Task<ServiceProcess> StartGatewayAsync(
        IReadOnlyDictionary<string, string>? settings = null, bool withWorkerDestinations = true, CancellationToken cancellationToken = default)
    {
        var gateway = await ServiceProcess.StartAsync("gateway-extra", RepositoryLayout.GatewayDll, GatewayEnvironment(settings, withWorkerDestinations),
            0, _options.StartTimeout, cancellationToken);
        try
        {
            await WaitReadyAsync(gateway, _options.StartTimeout, cancellationToken);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>The configuration key (as an environment variable) of a destination's address in the gateway.</summary>
    public static string DestinationAddressKey(string destinationId) =>
        $"ReverseProxy__Clusters__{ClusterId}__Destinations__{destinationId}__Address";

    /// <summary>The configuration key (as an environment variable) of a destination's gRPC address in the gateway.</summary>
    public static string GrpcDestinationAddressKey(string destinationId) =>
        $"ReverseProxy__Clusters__{GrpcClusterId}__Destinations__{destinationId}__Address";

    /// <summary>A loopback port free right now (the OS's pick for port 0, released again).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        for (var i = 0; i < _workers.Length; i++)
        {
            await KillWorkerAsync(i);
        }

        if (_ownedRepository is not null && Directory.Exists(_ownedRepository))
        {
            Directory.Delete(_ownedRepository, recursive: true);
        }

        if (_ownedAuditFolder is not null && Directory.Exists(_ownedAuditFolder))
        {
            Directory.Delete(_ownedAuditFolder, recursive: true);
        }
    }

    /// <summary>
    /// Polls <paramref name="gateway"/>'s metrics (the cluster's own gateway when null) until every worker is in
    /// rotation in both its clusters (REST and gRPC): <c>ecg2af_gateway_destination_available</c> 1. A worker that was
    /// killed, or answered 503s a moment ago, is ready before the gateway's health checks take it back.
    /// </summary>
    public async Task WaitUntilWorkersAvailableAsync(Uri? gateway = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var metrics = await PrometheusText.ScrapeAsync(gateway ?? GatewayUrl, cts.Token);
            var inRotation = Enumerable.Range(0, _workers.Length).All(i => new[] { ClusterId, GrpcClusterId }.All(cluster =>
                metrics.Value("ecg2af_gateway_destination_available", ("cluster", cluster), ("destination", WorkerId(i))) == 1));
            if (inRotation)
            {
                return;
            }

            await Task.Delay(100, cts.Token);
        }
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200.</summary>
    public static async Task WaitReadyAsync(ServiceProcess service, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (true)
        {
            if (service.HasExited)
            {
                throw new InvalidOperationException($"{service.Name} exited while starting.\n{service.Output}");
            }

            try
            {
                using var response = await Probe.GetAsync(new Uri(service.Url, "/health/ready"), cts.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{service.Name} was not ready within {timeout}.\n{service.Output}");
            }
            catch (TaskCanceledException) when (!cts.IsCancellationRequested)
            {
                // The probe's own timeout: a busy machine answered slowly; ask again until the start timeout.
            }

            try
            {
                await Task.Delay(100, cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{service.Name} was not ready within {timeout}.\n{service.Output}");
            }
        }
    }

    private Task StartWorkerAsync(int index, int port, CancellationToken cancellationToken) =>
        StartWorkerAsync(index, port, null, waitUntilReady: true, cancellationToken);

    private async Task StartWorkerAsync(int index, int port, IReadOnlyDictionary<string, string>? settings, bool waitUntilReady, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(WithKey(_options.WorkerSettings))
        {
            ["Model__RepositoryPath"] = ModelRepository,
            ["Worker__InstanceId"] = WorkerId(index),
            ["Worker__GrpcPort"] = Invariant(_workerGrpcPorts[index]),
        };

        // Each worker its share of the cores, as the AppHost gives it, unless the settings say otherwise.
        environment.TryAdd(WorkerCores.Variable, WorkerCores.Setting(_workers.Length));
        if (_ownedAuditFolder is not null)
        {
            environment["Audit__SqlitePath"] = AuditSqlitePath!;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        ServiceProcess worker;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                worker = await ServiceProcess.StartAsync(WorkerId(index), RepositoryLayout.WorkerDll, environment, port,
                    _options.StartTimeout, cancellationToken);
                break;
            }
            catch (InvalidOperationException e) when (port == 0 && attempt < 3 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                // The gRPC port was free when picked and taken by another process before this worker bound it (tests
                // run side by side): on a first start nothing points at that port yet, so pick another.
                _workerGrpcPorts[index] = FreePort();
                environment["Worker__GrpcPort"] = Invariant(_workerGrpcPorts[index]);
            }
        }

        _workers[index] = worker;
        _workerPorts[index] = worker.Url.Port;
        if (waitUntilReady)
        {
            await WaitReadyAsync(worker, _options.StartTimeout, cancellationToken);
        }
    }

    private Dictionary<string, string> GatewayEnvironment(IReadOnlyDictionary<string, string>? settings, bool withWorkerDestinations)
    {
        var environment = WithKey(_options.GatewaySettings);
        if (withWorkerDestinations)
        {
            for (var i = 0; i < _workerPorts.Length; i++)
            {
                environment[DestinationAddressKey(WorkerId(i))] = WorkerUrls[i].ToString();
                environment[GrpcDestinationAddressKey(WorkerId(i))] = WorkerGrpcUrls[i].ToString();
            }
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The settings with <see cref="ApiKey"/> as key entry 0, unless they configure that entry already.</summary>
    private Dictionary<string, string> WithKey(IReadOnlyDictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>(settings);
        if (!environment.Keys.Any(k => k.StartsWith("Security__ApiKeys__0__", StringComparison.Ordinal)))
        {
            foreach (var (key, value) in ApiKey.Settings(0))
            {
                environment[key] = value;
            }
        }

        return environment;
    }

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
