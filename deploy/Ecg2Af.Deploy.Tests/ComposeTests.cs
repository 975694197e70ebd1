using System.Text.Json.Nodes;
using Ecg2Af.Deploy.Tests.Support;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests;

/// <summary>
/// docker-compose.yml and docker-compose.scale.yml as `docker-compose config` renders them (no Docker engine needed): every build
/// context, Dockerfile and mount exists, and ports, health checks, environment names, DNS names and credentials
/// agree with what the services really read and listen on.
/// </summary>
public sealed class ComposeTests
{
    public static TheoryData<string> Files => new() { "docker-compose.yml", "docker-compose.scale.yml" };

    [Fact]
    public void Main_FirstArchitecture_GatewayOnPort8080InFrontOfOneWorker()
    {
        var compose = Compose.Main;
        Assert.Equal(["gateway", "inference-worker"], compose.Services.Keys.Order());
        Assert.Equal(["8080:8080", "8081:8081"], compose.Ports("gateway"));
        var destinations = compose.Environment("gateway").Where(e => e.Key.StartsWith("ReverseProxy__Clusters__workers__Destinations__", StringComparison.Ordinal)).ToList();
        Assert.Equal("http://inference-worker:8080/", Assert.Single(destinations).Value);
        Assert.Equal("service_healthy", compose.Services["gateway"]["depends_on"]?["inference-worker"]?["condition"].Text());
    }

    [Fact]
    public void Scale_ScaledDeployment_WorkersFoundByDnsWithPrometheusGrafanaPostgresAndGpuProfile()
    {
        var compose = Compose.Scale;
        Assert.Equal(["aspire-dashboard", "gateway", "grafana", "inference-worker", "inference-worker-gpu", "postgres", "prometheus"], compose.Services.Keys.Order());

        // --scale needs no fixed names, ports or instance ids on the worker.
        var worker = compose.Services["inference-worker"];
        Assert.Null(worker["container_name"]);
        Assert.Null(worker["ports"]);
        Assert.DoesNotContain("Worker__InstanceId", compose.Environment("inference-worker").Keys);

        // The gateway expands the service name into one destination per replica.
        var gateway = compose.Environment("gateway");
        Assert.Equal("true", gateway["Gateway__Dns__Enabled"]);
        var address = new Uri(Assert.Single(gateway, e => e.Key.StartsWith("ReverseProxy__Clusters__workers__Destinations__", StringComparison.Ordinal)).Value!);
        Assert.Contains(address.Host, compose.DnsNames("inference-worker"));
        Assert.Contains(address.Host, compose.DnsNames("inference-worker-gpu"));

        // The GPU profile reserves NVIDIA devices and runs the CUDA image.
        var gpu = compose.Services["inference-worker-gpu"];
        Assert.Equal(["gpu"], gpu["profiles"].Items().Select(p => p.Text()));
        var device = Assert.Single(gpu["deploy"]?["resources"]?["reservations"]?["devices"].Items() ?? []);
        Assert.Equal("nvidia", device["driver"].Text());
        Assert.Contains("gpu", device["capabilities"].Items().Select(c => c.Text()));
        Assert.EndsWith("worker-cuda.Dockerfile", compose.Services["inference-worker-gpu"]["build"]?["dockerfile"].Text(), StringComparison.Ordinal);

        // Traces: the project's services export over OTLP only when the endpoint is given; profile "tracing" runs one.
        Assert.Equal(["tracing"], compose.Services["aspire-dashboard"]["profiles"].Items().Select(p => p.Text()));
        foreach (var service in new[] { "gateway", "inference-worker", "inference-worker-gpu" })
        {
            Assert.Equal("", Compose.Interpolate(compose.Environment(service)["OTEL_EXPORTER_OTLP_ENDPOINT"]!));
        }

        // Both kinds of worker write the audit trail to the PostgreSQL service, with its credentials.
        var postgres = compose.Environment("postgres");
        foreach (var service in new[] { "inference-worker", "inference-worker-gpu" })
        {
            var connection = new Npgsql.NpgsqlConnectionStringBuilder(Compose.Interpolate(compose.Environment(service)["Audit__PostgresConnectionString"]!));
            Assert.Equal("postgres", connection.Host);
            Assert.Equal(postgres["POSTGRES_DB"], connection.Database);
            Assert.Equal(postgres["POSTGRES_USER"], connection.Username);
            Assert.Equal(Compose.Interpolate(postgres["POSTGRES_PASSWORD"]!), connection.Password);
            Assert.Equal("service_healthy", compose.Services[service]["depends_on"]?["postgres"]?["condition"].Text());
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Builds_EveryService_ContextDockerfileAndCopiedPathsExist(string file)
    {
        var compose = Compose.Load(file);
        var built = compose.Services.Keys.Where(s => compose.Services[s]["build"] is not null).ToList();
        Assert.NotEmpty(built);
        foreach (var service in built)
        {
            var context = compose.BuildContext(service)!;
            Assert.Equal(RepositoryLayout.Root, context.TrimEnd('/')); // central package management: the root props files
            var dockerfile = compose.DockerfileOf(service)!;
            Assert.True(File.Exists(dockerfile.Path), dockerfile.Path);
            Assert.Empty(DockerfileTests.MissingSources(dockerfile, context));
            Assert.StartsWith("ecg2af/", compose.Services[service]["image"].Text(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Ports_EveryProjectService_PublishedListenedAndHealthCheckedOnOnePort(string file)
    {
        var compose = Compose.Load(file);
        foreach (var service in compose.Services.Keys.Where(s => compose.DockerfileOf(s) is not null))
        {
            var environment = compose.EffectiveEnvironment(service);
            var port = DockerfileTests.ListeningPort(environment);
            // The HTTP port, and the gRPC listener's port where the service has one (Gateway:GrpcPort).
            var grpcPort = environment.TryGetValue("Gateway__GrpcPort", out var grpc) ? int.Parse(grpc!, System.Globalization.CultureInfo.InvariantCulture) : port;
            foreach (var published in compose.Ports(service))
            {
                Assert.Contains(int.Parse(published.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture), new[] { port, grpcPort });
            }

            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), compose.DockerfileOf(service)!.Final.All("EXPOSE").Single().Words);
            var test = compose.Services[service]["healthcheck"]?["test"].Items().Select(t => t.Text()!).ToList();
            Assert.NotNull(test);
            DockerfileTests.AssertHealthProbe(compose.DockerfileOf(service)!, test[1..], port, service);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Environment_ProjectServices_EveryNameIsAConfigurationKeyTheServiceReads(string file)
    {
        var compose = Compose.Load(file);
        var checkedAny = 0;
        foreach (var service in compose.Services.Keys.Where(s => compose.DockerfileOf(s) is not null))
        {
            var configuration = DockerfileTests.ConfigurationOf(compose.DockerfileOf(service)!);
            foreach (var (name, value) in compose.EffectiveEnvironment(service))
            {
                Assert.Null(configuration.Check(name, value is null ? null : Compose.Interpolate(value)));
                checkedAny++;
            }
        }

        Assert.True(checkedAny >= 6);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void References_ServicesVolumesNetworksAndMounts_AllExist(string file)
    {
        var compose = Compose.Load(file);
        var volumes = compose.Document["volumes"] as JsonObject ?? [];
        foreach (var (name, service) in compose.Services)
        {
            foreach (var dependency in (service["depends_on"] as JsonObject ?? []).Select(d => d.Key))
            {
                Assert.True(compose.Services.ContainsKey(dependency), $"{name} depends on unknown {dependency}");
            }

            foreach (var mount in service["volumes"].Items().Select(v => v.Text()!))
            {
                var source = mount.Split(':')[0];
                if (source.StartsWith('.') || source.StartsWith('/'))
                {
                    var path = Path.GetFullPath(Path.Combine(RepositoryLayout.Root, source));
                    Assert.True(Directory.Exists(path) || File.Exists(path), $"{name} mounts missing {path}");
                }
                else
                {
                    Assert.True(volumes.ContainsKey(source), $"{name} mounts undeclared volume {source}");
                }
            }
        }

        // The workers believe X-Forwarded-For from exactly the network the gateway sits on.
        var subnet = compose.Document["networks"]?["default"]?["ipam"]?["config"].Items().Single()["subnet"].Text();
        foreach (var worker in compose.Services.Keys.Where(s => s.StartsWith("inference-worker", StringComparison.Ordinal)))
        {
            Assert.Equal(subnet, compose.Environment(worker)["Audit__TrustedProxies__0"]);
        }
    }

    [Fact]
    public void Scale_PrometheusAndGrafana_MountTheProjectConfigurationAtThePathsItNames()
    {
        var compose = Compose.Scale;
        var prometheus = compose.Services["prometheus"];
        var configFlag = prometheus["command"].Items().Select(c => c.Text()!).Single(c => c.StartsWith("--config.file=", StringComparison.Ordinal));
        var configPath = MountedPath(prometheus, configFlag["--config.file=".Length..]);
        Assert.Equal(Path.Combine(Expressions.Deploy, "prometheus", "prometheus.yml"), configPath);

        // Every scrape target is a Compose service (or alias) on the port it listens on.
        var config = Yaml.Load(configPath);
        foreach (var job in config["scrape_configs"].Items())
        {
            var targets = job["static_configs"].Items().SelectMany(s => s["targets"].Items()).Select(t => t.Text()!)
                .Concat(job["dns_sd_configs"].Items().SelectMany(d => d["names"].Items().Select(n => $"{n.Text()}:{d["port"].Text()}")));
            foreach (var target in targets)
            {
                var (host, port) = (target.Split(':')[0], int.Parse(target.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
                var services = compose.Services.Keys.Where(s => compose.DnsNames(s).Contains(host)).ToList();
                Assert.NotEmpty(services);
                Assert.All(services, s => Assert.Equal(port, DockerfileTests.ListeningPort(compose.EffectiveEnvironment(s))));
            }
        }

        // Grafana: provisioning and dashboards where the provisioning files say, the datasource at Prometheus's address.
        var grafana = compose.Services["grafana"];
        var provisioning = MountedPath(grafana, "/etc/grafana/provisioning");
        var provider = Yaml.Load(Path.Combine(provisioning, "dashboards", "ecg2af.yml"))["providers"].Items().Single();
        Assert.Equal(Path.Combine(Expressions.Deploy, "grafana", "dashboards"), MountedPath(grafana, provider["options"]?["path"].Text()!));
        var datasource = new Uri(Yaml.Load(Path.Combine(provisioning, "datasources", "prometheus.yml"))["datasources"].Items().Single()["url"].Text()!);
        Assert.Equal("prometheus", datasource.Host);
        Assert.Contains($"{datasource.Port}:{datasource.Port}", compose.Ports("prometheus"));
        Assert.EndsWith(".json", grafana["environment"]?["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].Text(), StringComparison.Ordinal);
        Assert.True(File.Exists(MountedPath(grafana, grafana["environment"]?["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].Text()!)));
    }

    /// <summary>The repository path behind <paramref name="containerPath"/> of a bind mount of <paramref name="service"/>.</summary>
    private static string MountedPath(JsonNode service, string containerPath)
    {
        foreach (var mount in service["volumes"].Items().Select(v => v.Text()!.Split(':')))
        {
            if (mount[0].StartsWith('/') && (containerPath == mount[1] || containerPath.StartsWith(mount[1] + "/", StringComparison.Ordinal)))
            {
                return Path.GetFullPath(Path.Combine(RepositoryLayout.Root, mount[0], containerPath[mount[1].Length..].TrimStart('/')));
            }
        }

        throw new InvalidOperationException($"{containerPath} is not bind-mounted");
    }

    [Fact]
    public void Tls_OverrideOnTheFirstArchitecture_GatewayServesHttpsBesideHttpAndGrpc()
    {
        var compose = Compose.Tls;
        var env = compose.Environment("gateway");
        var https = new Uri(env["Kestrel__Endpoints__Https__Url"]!.Replace("+", "localhost", StringComparison.Ordinal));
        Assert.Equal("https", https.Scheme);
        Assert.Equal(["8080:8080", "8081:8081", $"{https.Port}:{https.Port}"], compose.Ports("gateway").Order());
        Assert.Equal(https.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), env["Gateway__Tls__HttpsPort"]);

        // The certificate directory is bind-mounted read-only where the key and certificate paths point.
        var mount = Assert.Single(compose.Services["gateway"]["volumes"].Items().Select(v => v.Text()!.Split(':')), m => m[1] == "/run/secrets/gateway-tls");
        Assert.Equal(Path.Combine(RepositoryLayout.Root, "deploy", "tls"), mount[0]);
        Assert.Equal("ro", mount[2]);
        Assert.StartsWith("/run/secrets/gateway-tls/", env["Kestrel__Endpoints__Https__Certificate__Path"], StringComparison.Ordinal);
        Assert.StartsWith("/run/secrets/gateway-tls/", env["Kestrel__Endpoints__Https__Certificate__KeyPath"], StringComparison.Ordinal);
        var configuration = DockerfileTests.ConfigurationOf(compose.DockerfileOf("gateway")!);
        Assert.All(env, e => Assert.Null(configuration.Check(e.Key, e.Value)));
    }

    [Fact]
    public void Scale_GrafanaAndAspireDashboard_HaveNoDefaultCredentialsAndNoOpenDashboard()
    {
        var compose = Compose.Scale;

        // ${VAR:?message}: Compose refuses the file while the password is unset; there is no fallback value.
        var refusal = Assert.Throws<InvalidOperationException>(() => Compose.Render(["docker-compose.scale.yml"], new Dictionary<string, string>()));
        Assert.Contains("GRAFANA_ADMIN_PASSWORD", refusal.Message, StringComparison.Ordinal);
        Assert.Equal("compose-config-check", compose.Environment("grafana")["GF_SECURITY_ADMIN_PASSWORD"]);

        var dashboard = compose.Environment("aspire-dashboard");
        Assert.Equal("BrowserToken", dashboard["DASHBOARD__FRONTEND__AUTHMODE"]);
        Assert.All(compose.Ports("aspire-dashboard"), p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
    }
}
