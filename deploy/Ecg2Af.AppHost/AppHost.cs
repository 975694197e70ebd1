using Microsoft.Extensions.Configuration;

// Starts the gateway on http://127.0.0.1:8080 and N inference workers, each on its own port, with the gateway's
// destinations taken from them. Processes only: no container runtime is needed. The workers follow the machine: one
// worker per two cores (at least one, at most four; Workers:Count overrides), and each worker sees only its share of
// the cores (DOTNET_PROCESSOR_COUNT, Workers:CoresPerWorker overrides), from which it lays out its inference loops
// and ONNX Runtime threads, so the workers together never oversubscribe the machine.
var builder = DistributedApplication.CreateBuilder(args);

var cores = Environment.ProcessorCount;
var workerCount = builder.Configuration.GetValue("Workers:Count", Math.Clamp(cores / 2, 1, 4));
var coresPerWorker = builder.Configuration.GetValue("Workers:CoresPerWorker", Math.Max(1, cores / Math.Max(1, workerCount)));
if (workerCount < 1 || coresPerWorker < 1)
{
    throw new InvalidOperationException($"Workers:Count ({workerCount}) and Workers:CoresPerWorker ({coresPerWorker}) must be at least 1.");
}

var firstWorkerPort = builder.Configuration.GetValue("Workers:FirstPort", 5201);
var gatewayPort = builder.Configuration.GetValue("Gateway:Port", 8080);
var modelRepository = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", "models"));

var gateway = builder.AddProject<Projects.Ecg2Af_Gateway>("gateway", o => o.ExcludeLaunchProfile = true)
    .WithHttpEndpoint(port: gatewayPort, name: "http", isProxied: false)
    .WithHttpHealthCheck("/health/ready");

for (var i = 0; i < workerCount; i++)
{
    var id = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"worker-{i}");
    var worker = builder.AddProject<Projects.Ecg2Af_Worker>(id, o => o.ExcludeLaunchProfile = true)
        .WithHttpEndpoint(port: firstWorkerPort + i, name: "http", isProxied: false)
        .WithEnvironment("Model__RepositoryPath", modelRepository)
        .WithEnvironment("Worker__InstanceId", id)
        .WithEnvironment("DOTNET_PROCESSOR_COUNT", coresPerWorker.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithHttpHealthCheck("/health/ready");
    gateway
        .WithEnvironment($"ReverseProxy__Clusters__workers__Destinations__{id}__Address", worker.GetEndpoint("http"))
        .WaitFor(worker);
}

builder.Build().Run();
