using System.Text.Json.Nodes;
using Ecg2Af.Deploy.Tests.Support;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests;

/// <summary>
/// deploy/k8s rendered by <c>kubectl kustomize</c> (base, the GPU and the TLS overlay), then checked against each other and
/// against the images and services: selectors match pods, probes name real ports and health endpoints, the
/// gateway discovers the workers through the headless Service, images are the ones the Dockerfiles build.
/// </summary>
public sealed class KubernetesTests
{
    public static TheoryData<string> Overlays => new() { "base", "overlays/gpu", "overlays/tls" };

    private static IReadOnlyList<JsonObject> Build(string overlay) => Kustomize.Build(Path.Combine(RepositoryLayout.Root, "deploy", "k8s", overlay));

    private static JsonObject One(IReadOnlyList<JsonObject> resources, string kind, string name) =>
        Assert.Single(resources, r => r["kind"].Text() == kind && r["metadata"]?["name"].Text() == name);

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Build_Kustomization_ExpectedResourcesWithNamesKindsAndApiVersions(string overlay)
    {
        var resources = Build(overlay);
        Assert.Equal(
            ["Deployment/gateway", "Deployment/inference-worker", "HorizontalPodAutoscaler/inference-worker", "NetworkPolicy/inference-worker",
             "PodDisruptionBudget/inference-worker", "Service/gateway", "Service/inference-worker"],
            resources.Select(r => $"{r["kind"].Text()}/{r["metadata"]?["name"].Text()}").Order());
        var apiVersions = new Dictionary<string, string>
        {
            ["Deployment"] = "apps/v1", ["Service"] = "v1", ["PodDisruptionBudget"] = "policy/v1", ["HorizontalPodAutoscaler"] = "autoscaling/v2",
            ["NetworkPolicy"] = "networking.k8s.io/v1",
        };
        Assert.All(resources, r => Assert.Equal(apiVersions[r["kind"].Text()!], r["apiVersion"].Text()));
        Assert.All(resources, r => Assert.Equal("ecg2af", r["metadata"]?["labels"]?["app.kubernetes.io/part-of"].Text()));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Selectors_ServicesBudgetAndAutoscaler_TargetTheDeploymentsPods(string overlay)
    {
        var resources = Build(overlay);
        foreach (var deployment in resources.Where(r => r["kind"].Text() == "Deployment"))
        {
            var selector = deployment["spec"]?["selector"]?["matchLabels"].Obj("matchLabels");
            var podLabels = deployment["spec"]?["template"]?["metadata"]?["labels"].Obj("pod labels");
            Assert.All(selector!, l => Assert.Equal(l.Value.Text(), podLabels![l.Key].Text()));
        }

        var workerPods = One(resources, "Deployment", "inference-worker")["spec"]?["template"]?["metadata"]?["labels"].Obj("labels")!;
        var gatewayPods = One(resources, "Deployment", "gateway")["spec"]?["template"]?["metadata"]?["labels"].Obj("labels")!;
        Assert.True(Matches(One(resources, "Service", "inference-worker")["spec"]?["selector"], workerPods));
        Assert.True(Matches(One(resources, "Service", "gateway")["spec"]?["selector"], gatewayPods));
        Assert.True(Matches(One(resources, "PodDisruptionBudget", "inference-worker")["spec"]?["selector"]?["matchLabels"], workerPods));
        var target = One(resources, "HorizontalPodAutoscaler", "inference-worker")["spec"]?["scaleTargetRef"];
        Assert.Equal(("apps/v1", "Deployment", "inference-worker"), (target?["apiVersion"].Text(), target?["kind"].Text(), target?["name"].Text()));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Containers_ImagesProbesPortsAndEnvironment_AgreeWithTheImagesAndServices(string overlay)
    {
        var resources = Build(overlay);
        var built = ImagesBuiltByCompose();
        foreach (var deployment in resources.Where(r => r["kind"].Text() == "Deployment"))
        {
            var container = Assert.Single(Kustomize.Containers(deployment));
            var image = container["image"].Text()!;
            Assert.True(built.TryGetValue(image, out var dockerfile), $"{image} is not an image the Compose files build ({string.Join(", ", built.Keys)})");

            var port = DockerfileTests.ListeningPort(dockerfile.Final.Environment().ToDictionary(e => e.Key, e => (string?)e.Value));
            var http = Assert.Single(container["ports"].Items(), p => p["name"].Text() == "http");
            Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), http["containerPort"].Text());
            foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
            {
                var get = container[probe]?["httpGet"];
                Assert.Equal("http", get?["port"].Text());
                DockerfileTests.AssertHealthProbe(dockerfile, ["healthcheck", get?["path"].Text()!, port.ToString(System.Globalization.CultureInfo.InvariantCulture)], port, $"{overlay} {probe}");
            }

            Assert.Equal("/health/ready", container["readinessProbe"]?["httpGet"]?["path"].Text());
            Assert.Equal("/health/live", container["livenessProbe"]?["httpGet"]?["path"].Text());
            Assert.NotNull(container["resources"]?["requests"]?["cpu"]);
            Assert.NotNull(container["resources"]?["limits"]?["memory"]);

            var configuration = DockerfileTests.ConfigurationOf(dockerfile);
            foreach (var env in container["env"].Items())
            {
                Assert.Null(configuration.Check(env["name"].Text()!, env["value"].Text()));
            }

            // The image's non-root user.
            Assert.True(deployment["spec"]?["template"]?["spec"]?["securityContext"]?["runAsNonRoot"]?.GetValue<bool>());
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Discovery_Gateway_ResolvesTheHeadlessWorkerServiceOnItsPort(string overlay)
    {
        var resources = Build(overlay);
        var service = One(resources, "Service", "inference-worker");
        Assert.Equal("None", service["spec"]?["clusterIP"].Text());
        var servicePort = Assert.Single(service["spec"]?["ports"].Items() ?? [], p => p["name"].Text() == "http");

        var gateway = Assert.Single(Kustomize.Containers(One(resources, "Deployment", "gateway")));
        var env = gateway["env"].Items().ToDictionary(e => e["name"].Text()!, e => e["value"].Text());
        Assert.Equal("true", env["Gateway__Dns__Enabled"]);
        var address = new Uri(Assert.Single(env, e => e.Key.StartsWith("ReverseProxy__Clusters__workers__Destinations__", StringComparison.Ordinal)).Value!);
        Assert.Equal(service["metadata"]?["name"].Text(), address.Host);
        Assert.Equal(servicePort["port"].Text(), address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("http", servicePort["targetPort"].Text());

        // Shutdown: the pod may take the worker's whole drain before it is killed.
        var grace = int.Parse(One(resources, "Deployment", "inference-worker")["spec"]?["template"]?["spec"]?["terminationGracePeriodSeconds"].Text()!, System.Globalization.CultureInfo.InvariantCulture);
        var serving = Activator.CreateInstance(ServiceConfiguration.Worker.Sections["Serving"])!;
        var drain = (TimeSpan)serving.GetType().GetProperty("DrainTimeout")!.GetValue(serving)!
            + (TimeSpan)serving.GetType().GetProperty("ShutdownReadinessDelay")!.GetValue(serving)!;
        Assert.True(grace > drain.TotalSeconds, $"terminationGracePeriodSeconds {grace} <= drain {drain}");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Grpc_GatewayToWorkers_PortsServicesProbeAndNetworkPolicyAgree(string overlay)
    {
        var resources = Build(overlay);
        static int Port(JsonObject container, string name) =>
            int.Parse(Assert.Single(container["ports"].Items(), p => p["name"].Text() == name)["containerPort"].Text()!, System.Globalization.CultureInfo.InvariantCulture);
        static Dictionary<string, string?> Env(JsonObject container) => container["env"].Items().ToDictionary(e => e["name"].Text()!, e => e["value"].Text());

        // The gateway listens for gRPC where its container port says, and its Service publishes that port.
        var gateway = Assert.Single(Kustomize.Containers(One(resources, "Deployment", "gateway")));
        var gatewayGrpc = Port(gateway, "grpc");
        Assert.Equal(gatewayGrpc.ToString(System.Globalization.CultureInfo.InvariantCulture), Env(gateway)["Gateway__GrpcPort"]);
        Assert.Contains(One(resources, "Service", "gateway")["spec"]?["ports"].Items() ?? [], p => p["targetPort"].Text() == "grpc");

        // The gateway's gRPC cluster points at the workers' headless Service on the workers' gRPC port.
        var worker = Assert.Single(Kustomize.Containers(One(resources, "Deployment", "inference-worker")));
        var workerGrpc = Port(worker, "grpc");
        Assert.Equal(workerGrpc.ToString(System.Globalization.CultureInfo.InvariantCulture), Env(worker)["Worker__GrpcPort"]);
        var destination = new Uri(Assert.Single(Env(gateway), e => e.Key.StartsWith("ReverseProxy__Clusters__workers-grpc__Destinations__", StringComparison.Ordinal)).Value!);
        var workerService = One(resources, "Service", "inference-worker");
        Assert.Equal(workerService["metadata"]?["name"].Text(), destination.Host);
        Assert.Equal(workerGrpc, destination.Port);
        Assert.Contains(workerService["spec"]?["ports"].Items() ?? [], p => p["targetPort"].Text() == "grpc");

        // The start-up probe asks the worker's own grpc.health.v1 service, on the gRPC port.
        Assert.Equal(workerGrpc.ToString(System.Globalization.CultureInfo.InvariantCulture), worker["startupProbe"]?["grpc"]?["port"].Text());

        // Only the gateway may connect, on both ports: a policy without the gRPC port would drop every gRPC call.
        var allowed = Assert.Single(One(resources, "NetworkPolicy", "inference-worker")["spec"]?["ingress"].Items()!)["ports"].Items().Select(p => p["port"].Text()).Order();
        Assert.Equal(["grpc", "http"], allowed);
    }

    [Fact]
    public void TlsOverlay_Gateway_ServesHttpsFromTheSecretKeepsProbesOnHttpAndPublishes443()
    {
        var resources = Build("overlays/tls");
        var deployment = One(resources, "Deployment", "gateway");
        var gateway = Assert.Single(Kustomize.Containers(deployment));
        var env = gateway["env"].Items().ToDictionary(e => e["name"].Text()!, e => e["value"].Text());
        var https = new Uri(env["Kestrel__Endpoints__Https__Url"]!.Replace("+", "localhost", StringComparison.Ordinal));
        Assert.Equal("https", https.Scheme);
        Assert.Equal(https.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(gateway["ports"].Items(), p => p["name"].Text() == "https")["containerPort"].Text());

        // Certificate and key come from the TLS Secret's mount; probes stay on plain HTTP.
        var mount = Assert.Single(gateway["volumeMounts"].Items(), m => env["Kestrel__Endpoints__Https__Certificate__Path"]!.StartsWith(m["mountPath"].Text() + "/", StringComparison.Ordinal));
        var volume = Assert.Single(deployment["spec"]?["template"]?["spec"]?["volumes"].Items()!, v => v["name"].Text() == mount["name"].Text());
        Assert.Equal("ecg2af-gateway-tls", volume["secret"]?["secretName"].Text());
        Assert.StartsWith(mount["mountPath"].Text() + "/", env["Kestrel__Endpoints__Https__Certificate__KeyPath"], StringComparison.Ordinal);
        Assert.Equal("http", gateway["readinessProbe"]?["httpGet"]?["port"].Text());
        Assert.Equal("true", env["Gateway__Tls__RedirectHttp"]);

        var ports = One(resources, "Service", "gateway")["spec"]?["ports"].Items().ToDictionary(p => p["name"].Text()!, p => p);
        Assert.Equal(("443", "https"), (ports!["https"]["port"].Text(), ports["https"]["targetPort"].Text()));
        Assert.Equal(env["Gateway__Tls__HttpsPort"], ports["https"]["port"].Text());
        Assert.Contains("grpc", ports.Keys);
    }

    [Fact]
    public void GpuOverlay_Worker_RequestsAGpuAndRunsTheCudaImage()
    {
        var worker = Assert.Single(Kustomize.Containers(One(Build("overlays/gpu"), "Deployment", "inference-worker")));
        Assert.Equal("1", worker["resources"]?["limits"]?["nvidia.com/gpu"].Text());
        Assert.StartsWith("ecg2af/inference-worker-cuda:", worker["image"].Text(), StringComparison.Ordinal);
        Assert.Contains(worker["env"].Items(), e => e["name"].Text() == "Model__Runtime__ExecutionProvider" && e["value"].Text() == "Auto");

        // The patch merged into the base container instead of replacing it.
        Assert.Contains(worker["env"].Items(), e => e["name"].Text() == "Worker__InstanceId");
        Assert.NotNull(worker["readinessProbe"]);
        var baseWorker = Assert.Single(Kustomize.Containers(One(Build("base"), "Deployment", "inference-worker")));
        Assert.Null(baseWorker["resources"]?["limits"]?["nvidia.com/gpu"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Workers_AuditTrail_RequiresPostgresFromTheSecretAndTrustsOnlyTheGateway(string overlay)
    {
        var resources = Build(overlay);
        var deployment = One(resources, "Deployment", "inference-worker");
        var env = Assert.Single(Kustomize.Containers(deployment))["env"].Items().ToDictionary(e => e["name"].Text()!, e => e);

        // No silent fallback to a SQLite file on an emptyDir: the worker refuses to start without PostgreSQL.
        Assert.Equal("true", env["Audit__RequirePostgres"]["value"].Text());
        var secret = env["Audit__PostgresConnectionString"]["valueFrom"]?["secretKeyRef"];
        Assert.Equal("ecg2af-audit", secret?["name"].Text());
        Assert.NotEqual("true", secret?["optional"].Text());
        Assert.False(env.ContainsKey("Audit__SqlitePath"));

        // X-Forwarded-For is believed from the pod network only because the NetworkPolicy lets only the gateway
        // (and Prometheus) connect to the workers.
        Assert.NotEqual("10.0.0.0/8", env["Audit__TrustedProxies__0"]["value"].Text());
        var policy = One(resources, "NetworkPolicy", "inference-worker");
        var workerPods = deployment["spec"]?["template"]?["metadata"]?["labels"].Obj("labels")!;
        Assert.True(Matches(policy["spec"]?["podSelector"]?["matchLabels"], workerPods));
        var rule = Assert.Single(policy["spec"]?["ingress"].Items()!);
        var sources = rule["from"].Items().Select(f => f["podSelector"]?["matchLabels"]?["app.kubernetes.io/name"].Text()).Order();
        Assert.Equal(["gateway", "prometheus"], sources);
    }

    private static bool Matches(JsonNode? selector, JsonObject labels) =>
        selector is JsonObject s && s.Count > 0 && s.All(l => labels[l.Key].Text() == l.Value.Text());

    /// <summary>Image name:tag → the Dockerfile that builds it, from both Compose files.</summary>
    private static Dictionary<string, Dockerfile> ImagesBuiltByCompose()
    {
        var images = new Dictionary<string, Dockerfile>(StringComparer.Ordinal);
        foreach (var compose in new[] { Compose.Main, Compose.Scale })
        {
            foreach (var service in compose.Services.Keys)
            {
                if (compose.DockerfileOf(service) is { } dockerfile)
                {
                    images[compose.Services[service]["image"].Text()!] = dockerfile;
                }
            }
        }

        return images;
    }
}
