using System.CommandLine;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>The root command: run scenarios against the gateway (or a self-hosted one) and report.</summary>
internal static class RunCommand
{
    public static RootCommand Create()
    {
        var scenario = new Option<string[]>("--scenario", "-s")
        {
            Description = $"Scenario(s) to run, in order: {string.Join(", ", ScenarioCatalog.Names)}.",
            DefaultValueFactory = _ => ["smoke"],
            AllowMultipleArgumentsPerToken = true,
        };
        var target = new Option<string>("--target") { Description = "Gateway URL (loopback only).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var grpcTarget = new Option<string>("--grpc-target") { Description = "The gateway's gRPC listener (h2c; loopback only), for the oip-grpc scenario.", DefaultValueFactory = _ => "http://127.0.0.1:8081" };
        var selfHost = new Option<bool>("--self-host") { Description = "Start the gateway and workers here (real processes on loopback) and load them." };
        var workers = new Option<int?>("--workers") { Description = "Self-host: number of workers (default 2; 3 for spread)." };
        var modelRepository = new Option<string?>("--model-repo") { Description = "Self-host: model repository to reuse (the stand-in is built there once)." };
        var workerSetting = new Option<string[]>("--worker-setting") { Description = "Self-host: worker setting KEY=VALUE (e.g. Serving__MaxBatchSize=1); repeatable.", AllowMultipleArgumentsPerToken = false };
        var gatewaySetting = new Option<string[]>("--gateway-setting") { Description = "Self-host: gateway setting KEY=VALUE; repeatable." };
        var clients = new Option<int?>("--clients") { Description = "Client source addresses (127.0.1.1, …) to spread requests over." };
        var rate = new Option<double?>("--rate") { Description = "Open model: constant arrival rate in requests per second (overrides the scenario's load)." };
        var rampFrom = new Option<double?>("--ramp-from") { Description = "Open model: ramp linearly from this rate to --rate." };
        var users = new Option<int?>("--users") { Description = "Closed model: concurrent users (overrides the scenario's load)." };
        var duration = new Option<double?>("--duration") { Description = "Seconds of load (overrides the scenario's)." };
        var warmup = new Option<double>("--warmup")
        {
            Description = "Seconds of unmeasured load before each scenario (its first load phase, cut to this length), so the client, gateway and workers are warm when measuring starts.",
            DefaultValueFactory = _ => 0,
        };
        var maxRequests = new Option<long>("--max-requests") { Description = "Hard bound: requests sent per scenario.", DefaultValueFactory = _ => 100_000 };
        var maxDuration = new Option<double>("--max-duration") { Description = "Hard bound: seconds per scenario, waiting for answers included.", DefaultValueFactory = _ => 600 };
        var maxInFlight = new Option<int>("--max-in-flight") { Description = "Open model: sends are dropped (and counted) while this many are in flight.", DefaultValueFactory = _ => 512 };
        var timeout = new Option<double>("--timeout") { Description = "Per-request timeout in seconds.", DefaultValueFactory = _ => 60 };
        var threshold = new Option<string[]>("--threshold", "-t") { Description = "Extra pass criterion, e.g. 'p99 < 2s', 'fail_ratio <= 0', 'stat:p95 < 800ms'; repeatable." };
        var output = new Option<string?>("--out", "-o") { Description = "Report folder (default ./load-reports/<UTC time>)." };
        var samples = new Option<string?>("--samples") { Description = "ECG samples folder (default ../shared/ecg-samples)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the step mix.", DefaultValueFactory = _ => 1 };
        var list = new Option<bool>("--list") { Description = "List the scenarios and exit." };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = $"API key to send (Authorization: Bearer). Default: {Ecg2Af.Security.DevApiKey.EnvironmentVariable}, else {Ecg2Af.Security.DevApiKey.RelativePath}. Self-host uses its own.",
        };

        var root = new RootCommand("ecg2af-load: open- and closed-model load tests of the Ecg2Af gateway (loopback only), with NBomber-like reports and thresholds.")
        {
            scenario, target, grpcTarget, selfHost, workers, modelRepository, workerSetting, gatewaySetting, clients, rate, rampFrom, users, duration, warmup,
            maxRequests, maxDuration, maxInFlight, timeout, threshold, output, samples, seed, list, apiKey,
        };
        root.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(list))
            {
                foreach (var name in ScenarioCatalog.Names)
                {
                    Console.WriteLine(name);
                }

                return 0;
            }

            LoadRunOptions options;
            try
            {
                options = new LoadRunOptions
                {
                    Scenarios = parse.GetValue(scenario)!,
                    Target = parse.GetValue(target)!,
                    GrpcTarget = parse.GetValue(grpcTarget)!,
                    SelfHost = parse.GetValue(selfHost),
                    Workers = parse.GetValue(workers),
                    ModelRepository = parse.GetValue(modelRepository),
                    WorkerSettings = Settings(parse.GetValue(workerSetting)),
                    GatewaySettings = Settings(parse.GetValue(gatewaySetting)),
                    Clients = parse.GetValue(clients),
                    Overrides = new LoadOverrides
                    {
                        Rate = parse.GetValue(rate),
                        RampFrom = parse.GetValue(rampFrom),
                        Users = parse.GetValue(users),
                        Duration = parse.GetValue(duration) is { } d ? TimeSpan.FromSeconds(d) : null,
                    },
                    Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
                    Bounds = new RunBounds
                    {
                        MaxRequests = parse.GetValue(maxRequests),
                        MaxDuration = TimeSpan.FromSeconds(parse.GetValue(maxDuration)),
                        MaxInFlight = parse.GetValue(maxInFlight),
                        RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                        Seed = parse.GetValue(seed),
                    },
                    ExtraThresholds = (parse.GetValue(threshold) ?? []).Select(Threshold.Parse).ToList(),
                    Output = parse.GetValue(output),
                    Samples = parse.GetValue(samples),
                    ApiKey = parse.GetValue(apiKey),
                    CommandLine = "ecg2af-load " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                };
                Validate(options);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                Console.Error.WriteLine(e.Message);
                return LoadRun.UsageError;
            }

            try
            {
                var (exitCode, _, _) = await LoadRun.ExecuteAsync(options, Console.Out, cancellationToken);
                return exitCode;
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException)
            {
                Console.Error.WriteLine(e.Message);
                return LoadRun.UsageError;
            }
        });
        return root;
    }

    internal static void Validate(LoadRunOptions options)
    {
        var o = options.Overrides;
        if (o.Rate is <= 0 || o.RampFrom is < 0 || o.Users is <= 0 || o.Duration is { TotalSeconds: <= 0 })
        {
            throw new ArgumentException("--rate, --users and --duration must be positive (--ramp-from non-negative).");
        }

        if (options.Warmup < TimeSpan.Zero || options.Warmup > TimeSpan.FromHours(1))
        {
            throw new ArgumentException("--warmup must be between 0 and 3600 seconds.");
        }

        if (o.RampFrom is not null && o.Rate is null)
        {
            throw new ArgumentException("--ramp-from needs --rate (the rate to ramp to).");
        }

        if (o.Rate is not null && o.Users is not null)
        {
            throw new ArgumentException("Choose an open model (--rate) or a closed one (--users), not both.");
        }

        var b = options.Bounds;
        if (b.MaxRequests <= 0 || b.MaxDuration <= TimeSpan.Zero || b.MaxInFlight <= 0 || b.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("--max-requests, --max-duration, --max-in-flight and --timeout must be positive.");
        }

        if (options.Clients is <= 0 or > 60_000 || options.Workers is <= 0 or > 64)
        {
            throw new ArgumentException("--clients must be 1..60000 and --workers 1..64.");
        }
    }

    internal static Dictionary<string, string> Settings(string[]? pairs)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"Setting '{pair}' is not KEY=VALUE.");
            }

            settings[pair[..equals]] = pair[(equals + 1)..];
        }

        return settings;
    }
}
