using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>What wrk reported (from the summary line loadtests/wrk/multipart.lua prints).</summary>
public sealed record WrkResult(long Requests, double DurationSeconds, long StatusErrors, long SocketErrors, double P50Ms, double P99Ms)
{
    public double RequestsPerSecond => Requests / Math.Max(DurationSeconds, 1e-9);

    /// <summary>Parses the <c>wrk-json: {...}</c> line; null when wrk printed none.</summary>
    public static WrkResult? Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var match = Regex.Match(output, @"^wrk-json: (\{.*\})\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return null;
        }

        using var json = JsonDocument.Parse(match.Groups[1].Value);
        var r = json.RootElement;
        long L(string name) => r.GetProperty(name).GetInt64();
        return new WrkResult(L("requests"), L("duration_us") / 1e6, L("status_errors"),
            L("connect_errors") + L("read_errors") + L("write_errors") + L("timeouts"), L("p50_us") / 1000.0, L("p99_us") / 1000.0);
    }
}

/// <summary>
/// Cross-checks the tool against wrk: the same multipart upload, the same number of connections from one source
/// address, closed loop, wrk and the tool in ABBA order for a few rounds on the same gateway; the tool's mean
/// throughput must be within the tolerance (±15 % by default) of wrk's.
/// </summary>
internal static class WrkCheckCommand
{
    public static Command Create()
    {
        var selfHost = new Option<bool>("--self-host") { Description = "Start a gateway and one worker here." };
        var target = new Option<string>("--target") { Description = "Gateway URL (loopback only).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var modelRepository = new Option<string?>("--model-repo") { Description = "Self-host: model repository to reuse." };
        var connections = new Option<int>("--connections", "-c") { Description = "Connections (wrk -c) and closed-model users of the tool.", DefaultValueFactory = _ => 4 };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds per run.", DefaultValueFactory = _ => 10 };
        var rounds = new Option<int>("--rounds") { Description = "wrk/tool pairs, alternated (the machine is shared: more rounds average its noise out).", DefaultValueFactory = _ => 6 };
        var file = new Option<string[]>("--file") { Description = "ECG file(s) of the upload, relative to the samples folder.", DefaultValueFactory = _ => [Payloads.TensorSource] };
        var tolerance = new Option<double>("--tolerance") { Description = "Allowed relative difference of throughput.", DefaultValueFactory = _ => 0.15 };
        var samples = new Option<string?>("--samples") { Description = "ECG samples folder (default ../shared/ecg-samples)." };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for wrk-check.md." };
        var command = new Command("wrk-check", "Compare the tool's closed-model throughput with wrk's on the same multipart upload.")
        {
            selfHost, target, modelRepository, connections, duration, rounds, file, tolerance, samples, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var samplesFolder = parse.GetValue(samples) ?? Path.Combine(RepositoryLayout.Shared, "ecg-samples");
            var settings = new WrkCheckSettings(parse.GetValue(connections), TimeSpan.FromSeconds(parse.GetValue(duration)), parse.GetValue(rounds),
                parse.GetValue(file)!, parse.GetValue(tolerance), samplesFolder, Ecg2Af.Security.DevApiKey.Find(null, RepositoryLayout.Root));
            LocalCluster.LocalCluster? cluster = null;
            try
            {
                Uri gateway;
                if (parse.GetValue(selfHost))
                {
                    cluster = await SelfHost.StartAsync(1, parse.GetValue(modelRepository), new Dictionary<string, string>(), new Dictionary<string, string>(), cancellationToken);
                    gateway = cluster.GatewayUrl;
                    settings = settings with { ApiKey = cluster.ApiKey.Key };
                }
                else
                {
                    gateway = LoopbackTarget.Parse(parse.GetValue(target)!);
                }

                var result = await WrkCheck.RunAsync(gateway, settings, Console.Out, cancellationToken);
                var markdown = WrkCheck.Render(result, settings);
                await LoadRun.PrintMarkdownAsync(markdown, parse.GetValue(output), "wrk-check.md", cancellationToken);

                return result.Passed ? 0 : LoadRun.ThresholdsFailed;
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException)
            {
                Console.Error.WriteLine(e.Message);
                return LoadRun.UsageError;
            }
            finally
            {
                if (cluster is not null)
                {
                    await cluster.DisposeAsync();
                }
            }
        });
        return command;
    }
}

/// <summary>What wrk-check runs; <see cref="ApiKey"/> is sent by both wrk and the tool when set.</summary>
public sealed record WrkCheckSettings(int Connections, TimeSpan Duration, int Rounds, IReadOnlyList<string> Files, double Tolerance, string SamplesFolder, string? ApiKey = null);

public sealed record WrkCheckResult(IReadOnlyList<WrkResult> Wrk, IReadOnlyList<StepReport> Tool, double Ratio, bool Passed);

public static class WrkCheck
{
    /// <summary>The Lua script beside the tool's sources.</summary>
    public static string Script => Path.Combine(RepositoryLayout.Root, "loadtests", "wrk", "multipart.lua");

    public static async Task<WrkCheckResult> RunAsync(Uri gateway, WrkCheckSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var payloads = Payloads.Load(settings.SamplesFolder, [settings.Files.ToArray()]);
        var url = new Uri(gateway, "/api/v1/predictions");
        var scenario = new Scenario
        {
            Name = "wrk-check",
            Steps = [new StepDefinition("web-form", 1, Requests.WebForm(gateway, payloads))],
            Load = [new KeepConstantPhase(settings.Connections, settings.Duration)],
        };
        var bounds = new RunBounds { MaxDuration = settings.Duration + TimeSpan.FromMinutes(2), RequestTimeout = TimeSpan.FromMinutes(1) };

        // One source address and as many connections as wrk opens, so both load the gateway the same way.
        using var pool = new ClientPool(1, bounds.RequestTimeout, settings.Connections, settings.ApiKey);
        var runner = new ScenarioRunner(pool, bounds);
        await runner.WarmUpAsync(scenario, TimeSpan.FromSeconds(3), cancellationToken);

        var wrk = new List<WrkResult>();
        var tool = new List<StepReport>();
        for (var round = 0; round < settings.Rounds; round++)
        {
            // ABBA order (wrk first in even rounds, the tool first in odd ones), so a drift in the machine's
            // background load hits both alike.
            foreach (var wrkTurn in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                if (wrkTurn)
                {
                    var w = await RunWrkAsync(url, settings, cancellationToken);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: wrk {w.RequestsPerSecond:0.00} req/s ({w.Requests} requests, {w.StatusErrors} non-2xx)"));
                    wrk.Add(w);
                }
                else
                {
                    var result = await runner.RunAsync(scenario, cancellationToken);
                    var step = StepReport.From(result.Steps[0], result.Window);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: tool {step.OkPerSecond:0.00} ok/s ({step.Ok} ok, {step.Failed} failed)"));
                    tool.Add(step);
                }
            }
        }

        var wrkRate = wrk.Average(w => (w.Requests - w.StatusErrors) / Math.Max(w.DurationSeconds, 1e-9));
        var toolRate = tool.Average(t => t.OkPerSecond);
        var ratio = toolRate / Math.Max(wrkRate, 1e-9);
        var clean = wrk.All(w => w.StatusErrors == 0 && w.SocketErrors == 0) && tool.All(t => t.Failed == 0);
        return new WrkCheckResult(wrk, tool, ratio, clean && Math.Abs(ratio - 1) <= settings.Tolerance);
    }

    public static async Task<WrkResult> RunWrkAsync(Uri url, WrkCheckSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var info = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (settings.ApiKey is { } key)
        {
            info.Environment[Ecg2Af.Security.DevApiKey.EnvironmentVariable] = key; // the script sends it; not on the command line
        }

        foreach (var argument in new[]
        {
            "-t1", $"-c{settings.Connections}", $"-d{Math.Max(1, (int)Math.Round(settings.Duration.TotalSeconds))}s", "--timeout", "60s",
            "-s", Script, url.ToString(), "--",
        })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var file in settings.Files)
        {
            info.ArgumentList.Add(Path.Combine(settings.SamplesFolder, file));
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("wrk is not installed (Debian package wrk; ./test.sh installs it).", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            var text = await stdout + await stderr;
            return WrkResult.Parse(text) ?? throw new InvalidOperationException($"wrk printed no summary (exit {process.ExitCode}):\n{text}");
        }
    }

    public static string Render(WrkCheckResult result, WrkCheckSettings settings)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(settings);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## wrk cross-check: {string.Join(" + ", settings.Files)}, {settings.Connections} connections, {settings.Duration.TotalSeconds:0} s per run, closed loop");
        md.AppendLine();
        md.AppendLine("| round | wrk req/s | wrk non-2xx | wrk p50 / p99 ms | tool ok/s | tool failed | tool p50 / p99 ms |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < result.Wrk.Count; i++)
        {
            var w = result.Wrk[i];
            var t = result.Tool[i];
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {i + 1} | {w.RequestsPerSecond:0.00} | {w.StatusErrors} | {w.P50Ms:0} / {w.P99Ms:0} | {t.OkPerSecond:0.00} | {t.Failed} | {t.Latency.P50Ms:0} / {t.Latency.P99Ms:0} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Tool ÷ wrk throughput: **{result.Ratio:0.000}** (allowed 1 ± {settings.Tolerance:0.##}) → {(result.Passed ? "within" : "OUTSIDE")}");
        return md.ToString();
    }
}
