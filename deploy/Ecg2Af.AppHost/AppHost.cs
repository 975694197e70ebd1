using Microsoft.Extensions.Configuration;

// Starts the gateway on http://127.0.0.1:8080 (gRPC, h2c, on 127.0.0.1:8081) and N inference workers (default 2, set Workers:Count), each on its
// own port, with the gateway's destinations taken from them. Processes only: no container runtime is needed.
var builder = DistributedApplication.CreateBuilder(args);

var workerCount = builder.Configuration.GetValue("Workers:Count", 2);
var firstWorkerPort = builder.Configuration.GetValue("Workers:FirstPort", 5201);
var gatewayPort = builder.Configuration.GetValue("Gateway:Port", 8080);
// gRPC (OIP v2, h2c): the gateway on 8081, worker i on FirstGrpcPort + i.
var gatewayGrpcPort = builder.Configuration.GetValue("Gateway:GrpcPort", 8081);
var firstWorkerGrpcPort = builder.Configuration.GetValue("Workers:FirstGrpcPort", 5301);
var modelRepository = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", "models"));

var gateway = builder.AddProject<Projects.Ecg2Af_Gateway>("gateway", o => o.ExcludeLaunchProfile = true)
    .WithHttpEndpoint(port: gatewayPort, name: "http", isProxied: false)
    .WithEnvironment("Gateway__GrpcPort", gatewayGrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
    .WithHttpHealthCheck("/health/ready");

for (var i = 0; i < workerCount; i++)
{
    var id = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"worker-{i}");
    var worker = builder.AddProject<Projects.Ecg2Af_Worker>(id, o => o.ExcludeLaunchProfile = true)
        .WithHttpEndpoint(port: firstWorkerPort + i, name: "http", isProxied: false)
        .WithEnvironment("Model__RepositoryPath", modelRepository)
        .WithEnvironment("Worker__InstanceId", id)
        .WithEnvironment("Worker__GrpcPort", (firstWorkerGrpcPort + i).ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithHttpHealthCheck("/health/ready");
    gateway
        .WithEnvironment($"ReverseProxy__Clusters__workers__Destinations__{id}__Address", worker.GetEndpoint("http"))
        .WithEnvironment($"ReverseProxy__Clusters__workers-grpc__Destinations__{id}__Address",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"http://127.0.0.1:{firstWorkerGrpcPort + i}/"))
        .WaitFor(worker);
}

builder.Build().Run();
