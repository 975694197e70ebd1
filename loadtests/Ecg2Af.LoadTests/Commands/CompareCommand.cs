using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>What <c>compare</c> sends: the same multipart upload, the same closed-loop users, to both targets.</summary>
/// <param name="A">First target: the full URL the upload is posted to (loopback only).</param>
/// <param name="B">Second target.</param>
/// <param name="Users">Closed-model users (concurrent clients), the same for both.</param>
/// <param name="Duration">Seconds of load per turn.</param>
/// <param name="Rounds">Rounds; each round runs both targets, A B in even rounds and B A in odd ones (A B B A ...).</param>
/// <param name="Files">The ECG file(s) of the upload, relative to <paramref name="SamplesFolder"/> or absolute.</param>
/// <param name="Part">The multipart field name the files go in (Ecg2Af: <c>ecg</c>).</param>
/// <param name="Fields">Further form fields (name=value), sent to both.</param>
/// <param name="SamplesFolder">The ECG samples folder.</param>
/// <param name="ApiKey">Sent as <c>Authorization: Bearer</c> to both targets when given.</param>
public sealed record CompareSettings(
    Uri A, Uri B, int Users, TimeSpan Duration, int Rounds, IReadOnlyList<string> Files, string Part,
    IReadOnlyDictionary<string, string> Fields, string SamplesFolder, string? ApiKey);

/// <summary>Both targets' turns and the B ÷ A ratios of their means.</summary>
public sealed record CompareResult(IReadOnlyList<StepReport> A, IReadOnlyList<StepReport> B)
{
    public double ThroughputRatio => Mean(B, s => s.OkPerSecond) / Math.Max(Mean(A, s => s.OkPerSecond), 1e-9);

    public double P50Ratio => Mean(B, s => s.Latency.P50Ms) / Math.Max(Mean(A, s => s.Latency.P50Ms), 1e-9);

    public double P99Ratio => Mean(B, s => s.Latency.P99Ms) / Math.Max(Mean(A, s => s.Latency.P99Ms), 1e-9);

    public bool Clean => A.Concat(B).All(s => s.Failed == 0);

    public static double Mean(IReadOnlyList<StepReport> turns, Func<StepReport, double> value) => turns.Count == 0 ? 0 : turns.Average(value);
}

/// <summary>
/// <c>ecg2af-load compare</c>: holds one HTTP service against another on the same upload. Both targets get the same
/// closed-loop users, source addresses, duration and warm-up, in A B B A order over the rounds so that a drift in the
/// machine's background load hits both alike; prints each turn and the B ÷ A ratios of throughput, p50 and p99.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var a = new Option<string>("--a") { Description = "Target A: the URL the upload is posted to, e.g. http://127.0.0.1:8080/api/v1/predictions.", Required = true };
        var b = new Option<string>("--b") { Description = "Target B: the URL the upload is posted to, e.g. http://127.0.0.1:9000/predict.", Required = true };
        var users = new Option<int>("--users", "-u") { Description = "Concurrent closed-loop clients, the same for both.", DefaultValueFactory = _ => 8 };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds of load per turn.", DefaultValueFactory = _ => 10 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of A B (then B A): 2 gives A B B A.", DefaultValueFactory = _ => 2 };
        var file = new Option<string[]>("--file") { Description = "ECG file(s) of the upload, relative to the samples folder.", DefaultValueFactory = _ => [Payloads.TensorSource] };
        var part = new Option<string>("--part") { Description = "Multipart field name of the file(s).", DefaultValueFactory = _ => "ecg" };
        var field = new Option<string[]>("--field") { Description = "Extra form field NAME=VALUE sent to both (repeatable).", DefaultValueFactory = _ => [] };
        var samples = new Option<string?>("--samples") { Description = "ECG samples folder (default ../shared/ecg-samples)." };
        var apiKey = new Option<string?>("--api-key") { Description = "API key sent as Authorization: Bearer to both targets (default: ECG2AF_API_KEY, else data/dev-api-key)." };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for compare.md." };
        var command = new Command("compare", "Run the same upload against two HTTP targets alternately (A B B A) and print throughput and p50/p99 ratios.")
        {
            a, b, users, duration, rounds, file, part, field, samples, apiKey, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var fields = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["name"] = "Load Test User",
                    ["email"] = "load@example.org",
                };
                foreach (var pair in parse.GetValue(field)!)
                {
                    var at = pair.IndexOf('=', StringComparison.Ordinal);
                    if (at <= 0)
                    {
                        throw new ArgumentException($"--field '{pair}' is not NAME=VALUE.");
                    }

                    fields[pair[..at]] = pair[(at + 1)..];
                }

                var settings = new CompareSettings(
                    LoopbackTarget.Parse(parse.GetValue(a)!), LoopbackTarget.Parse(parse.GetValue(b)!), Positive(parse.GetValue(users), "--users"),
                    TimeSpan.FromSeconds(parse.GetValue(duration)), Positive(parse.GetValue(rounds), "--rounds"), parse.GetValue(file)!, parse.GetValue(part)!,
                    fields, parse.GetValue(samples) ?? Path.Combine(RepositoryLayout.Shared, "ecg-samples"),
                    Ecg2Af.Security.DevApiKey.Find(parse.GetValue(apiKey), RepositoryLayout.Root));
                var result = await Compare.RunAsync(settings, Console.Out, cancellationToken);
                var markdown = Compare.Render(result, settings);
                await LoadRun.PrintMarkdownAsync(markdown, parse.GetValue(output), "compare.md", cancellationToken);

                return result.Clean ? 0 : LoadRun.ThresholdsFailed;
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException)
            {
                Console.Error.WriteLine(e.Message);
                return LoadRun.UsageError;
            }
        });
        return command;
    }

    private static int Positive(int value, string name) => value > 0 ? value : throw new ArgumentException($"{name} must be at least 1.");
}

public static class Compare
{
    public static async Task<CompareResult> RunAsync(CompareSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var files = settings.Files
            .Select(f => Path.IsPathRooted(f) ? f : Path.Combine(settings.SamplesFolder, f))
            .Select(f => File.Exists(f) ? (Path.GetFileName(f), File.ReadAllBytes(f)) : throw new FileNotFoundException($"ECG file {f} is missing.", f))
            .ToList();
        Scenario ScenarioFor(Uri url) => new()
        {
            Name = "compare",
            Steps = [new StepDefinition("upload", 1, _ => Upload(url, files, settings))],
            Load = [new KeepConstantPhase(settings.Users, settings.Duration)],
        };

        var bounds = new RunBounds { MaxDuration = settings.Duration + TimeSpan.FromMinutes(2), RequestTimeout = TimeSpan.FromMinutes(1) };
        using var pool = new ClientPool(settings.Users, bounds.RequestTimeout, connectionsPerClient: 4, settings.ApiKey);
        var runner = new ScenarioRunner(pool, bounds);

        // The same warm-up for both (JIT, connection pools, the services' first runs), outside the measurement.
        var warmUp = TimeSpan.FromSeconds(Math.Min(3, settings.Duration.TotalSeconds));
        await runner.WarmUpAsync(ScenarioFor(settings.A), warmUp, cancellationToken);
        await runner.WarmUpAsync(ScenarioFor(settings.B), warmUp, cancellationToken);

        var a = new List<StepReport>();
        var b = new List<StepReport>();
        for (var round = 0; round < settings.Rounds; round++)
        {
            foreach (var aTurn in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var result = await runner.RunAsync(ScenarioFor(aTurn ? settings.A : settings.B), cancellationToken);
                var step = StepReport.From(result.Steps[0], result.Window);
                (aTurn ? a : b).Add(step);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}: {(aTurn ? "A" : "B")} {step.OkPerSecond:0.00} ok/s, p50 {step.Latency.P50Ms:0} ms, p99 {step.Latency.P99Ms:0} ms ({step.Ok} ok, {step.Failed} failed)"));
            }
        }

        return new CompareResult(a, b);
    }

    /// <summary>The upload: the files under <see cref="CompareSettings.Part"/>, then the form fields.</summary>
    public static HttpRequestMessage Upload(Uri url, IReadOnlyList<(string Name, byte[] Bytes)> files, CompareSettings settings)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(settings);
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, settings.Part, name);
        }

        foreach (var (key, value) in settings.Fields)
        {
            form.Add(new StringContent(value), key);
        }

        return new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
    }

    public static string Render(CompareResult result, CompareSettings settings)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(settings);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"## compare: {string.Join(" + ", settings.Files)}, {settings.Users} closed-loop clients, {settings.Duration.TotalSeconds:0.#} s per turn, {settings.Rounds} rounds (A B B A)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- A: {settings.A}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- B: {settings.B}");
        md.AppendLine();
        md.AppendLine("| target | turn | ok/s | failed | p50 ms | p99 ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, turns) in new[] { ("A", result.A), ("B", result.B) })
        {
            for (var i = 0; i < turns.Count; i++)
            {
                var t = turns[i];
                md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {i + 1} | {t.OkPerSecond:0.00} | {t.Failed} | {t.Latency.P50Ms:0} | {t.Latency.P99Ms:0} |");
            }
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"B ÷ A (means of the turns): throughput **{result.ThroughputRatio:0.000}**, p50 **{result.P50Ratio:0.000}**, p99 **{result.P99Ratio:0.000}**{(result.Clean ? "" : " — some requests FAILED; see the turns")}");
        return md.ToString();
    }
}
