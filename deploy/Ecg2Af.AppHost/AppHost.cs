using Ecg2Af.LocalCluster;
using Ecg2Af.Security;
using Microsoft.Extensions.Configuration;

// Starts the gateway on http://127.0.0.1:8080 (gRPC, h2c, on 127.0.0.1:8081) and N inference workers, each on its own port, with the gateway's
// destinations taken from them. Processes only: no container runtime is needed. The workers follow the machine: one
// worker per two cores (at least one, at most four; Workers:Count overrides), and each worker sees only its share of
// the cores (DOTNET_PROCESSOR_COUNT, Workers:CoresPerWorker overrides), from which it lays out its inference loops
// and ONNX Runtime threads, so the workers together never oversubscribe the machine (the split is WorkerCores, shared
// with LocalCluster, which tests and the load tool start).
var builder = DistributedApplication.CreateBuilder(args);

var cores = Environment.ProcessorCount;
var workerCount = builder.Configuration.GetValue("Workers:Count", WorkerCores.DefaultWorkers(cores));
var coresPerWorker = builder.Configuration.GetValue("Workers:CoresPerWorker", WorkerCores.PerWorker(cores, workerCount));
if (workerCount < 1 || coresPerWorker < 1)
{
    throw new InvalidOperationException($"Workers:Count ({workerCount}) and Workers:CoresPerWorker ({coresPerWorker}) must be at least 1.");
}

var firstWorkerPort = builder.Configuration.GetValue("Workers:FirstPort", 5201);
var gatewayPort = builder.Configuration.GetValue("Gateway:Port", 8080);
// gRPC (OIP v2, h2c): the gateway on 8081, worker i on FirstGrpcPort + i.
var gatewayGrpcPort = builder.Configuration.GetValue("Gateway:GrpcPort", 8081);
var firstWorkerGrpcPort = builder.Configuration.GetValue("Workers:FirstGrpcPort", 5301);
var root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".."));
var modelRepository = Path.Combine(root, "models");
var security = SecuritySettings(builder.Configuration, root);

var gateway = builder.AddProject<Projects.Ecg2Af_Gateway>("gateway", o => o.ExcludeLaunchProfile = true)
    .WithHttpEndpoint(port: gatewayPort, name: "http", isProxied: false)
    .WithEnvironment("Gateway__GrpcPort", gatewayGrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
    .WithHttpHealthCheck("/health/ready");
foreach (var (key, value) in security)
{
    gateway.WithEnvironment(key, value);
}

for (var i = 0; i < workerCount; i++)
{
    var id = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"worker-{i}");
    var worker = builder.AddProject<Projects.Ecg2Af_Worker>(id, o => o.ExcludeLaunchProfile = true)
        .WithHttpEndpoint(port: firstWorkerPort + i, name: "http", isProxied: false)
        .WithEnvironment("Model__RepositoryPath", modelRepository)
        .WithEnvironment("Worker__InstanceId", id)
        .WithEnvironment("Worker__GrpcPort", (firstWorkerGrpcPort + i).ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithEnvironment(WorkerCores.Variable, coresPerWorker.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithHttpHealthCheck("/health/ready");
    foreach (var (key, value) in security)
    {
        worker.WithEnvironment(key, value);
    }

    gateway
        .WithEnvironment($"ReverseProxy__Clusters__workers__Destinations__{id}__Address", worker.GetEndpoint("http"))
        .WithEnvironment($"ReverseProxy__Clusters__workers-grpc__Destinations__{id}__Address",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"http://127.0.0.1:{firstWorkerGrpcPort + i}/"))
        .WaitFor(worker);
}

builder.Build().Run();

// The Security settings the AppHost was started with (environment or command line), passed on to the gateway and
// every worker as environment variables. Without any configured key: the development key in data/dev-api-key
// (created on first start), with scopes predict and admin and a rate limit for one developer's load runs.
static Dictionary<string, string> SecuritySettings(IConfiguration configuration, string root)
{
    var settings = configuration.GetSection(ApiKeyOptions.Section).AsEnumerable()
        .Where(p => p.Value is not null)
        .ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value!, StringComparer.Ordinal);
    if (configuration.GetSection($"{ApiKeyOptions.Section}:ApiKeys").GetChildren().Any())
    {
        return settings;
    }

    var path = Path.Combine(root, DevApiKey.RelativePath);
    var (key, created) = DevApiKey.ReadOrCreate(path);
    settings["Security__ApiKeys__0__Id"] = DevApiKey.Id;
    settings["Security__ApiKeys__0__Hash"] = ApiKeyHash.Of(key);
    settings["Security__ApiKeys__0__Scopes__0"] = ApiKeyScopes.Predict;
    settings["Security__ApiKeys__0__Scopes__1"] = ApiKeyScopes.Admin;
    settings["Security__ApiKeys__0__RateLimit__PermitsPerSecond"] = "1000";
    settings["Security__ApiKeys__0__RateLimit__Burst"] = "2000";
    Console.WriteLine($"Development API key ({(created ? "created" : "reused")}): {path}");
    Console.WriteLine("  send it as: -H \"Authorization: Bearer $(cat data/dev-api-key)\"");
    return settings;
}
