using System.CommandLine;
using System.Globalization;
using System.Text;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Commands;

/// <summary>
/// The options the self-hosted bench commands share (a model repository to reuse, worker settings, the samples folder,
/// the report folder) and the steps they share: the report's header, a temporary model repository, serial requests.
/// </summary>
internal sealed class BenchOptions
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public BenchOptions(string reportFile)
    {
        ReportFile = reportFile;
        Output = new Option<string?>("--out", "-o") { Description = $"Folder for {reportFile}." };
    }

    public string ReportFile { get; }

    public Option<string?> ModelRepository { get; } = new("--model-repo") { Description = "Model repository to reuse (the stand-in is built there once)." };

    public Option<string[]> WorkerSetting { get; } = new("--worker-setting") { Description = "Worker setting KEY=VALUE for the workers the command starts; repeatable." };

    public Option<string?> Samples { get; } = new("--samples") { Description = "ECG samples folder (default ../shared/ecg-samples)." };

    public Option<string?> Output { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(ModelRepository);
        command.Options.Add(WorkerSetting);
        command.Options.Add(Samples);
        command.Options.Add(Output);
    }

    public string SamplesFolder(ParseResult parse) => parse.GetValue(Samples) ?? Path.Combine(RepositoryLayout.Shared, "ecg-samples");

    public IReadOnlyDictionary<string, string> WorkerSettings(ParseResult parse) => RunCommand.Settings(parse.GetValue(WorkerSetting));

    /// <summary>Prints the report and writes it to the report folder, when one was given.</summary>
    public Task PrintAsync(ParseResult parse, string markdown, CancellationToken cancellationToken) =>
        LoadRun.PrintMarkdownAsync(markdown, parse.GetValue(Output), ReportFile, cancellationToken);

    /// <summary>The report's title line (time and commit), the machine line and the worker settings given.</summary>
    public static StringBuilder Header(string title, IReadOnlyDictionary<string, string> workerSettings)
    {
        var md = new StringBuilder();
        md.AppendLine(C, $"## {title}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit `{MachineInfo.Commit(RepositoryLayout.Root)}`");
        md.AppendLine();
        md.AppendLine(BenchRun.MachineLine());
        foreach (var (key, value) in workerSettings)
        {
            md.AppendLine(C, $"- Worker setting: {key}={value}");
        }

        return md;
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="given"/>, or on a temporary repository deleted afterwards.</summary>
    public static async Task<T> WithModelRepositoryAsync<T>(string? given, Func<string, Task<T>> body)
    {
        var repository = given ?? Directory.CreateTempSubdirectory("ecg2af-bench-models-").FullName;
        try
        {
            return await body(repository);
        }
        finally
        {
            if (given is null && Directory.Exists(repository))
            {
                Directory.Delete(repository, recursive: true);
            }
        }
    }

    /// <summary>
    /// <paramref name="count"/> requests of <paramref name="step"/> one after another from client 0 of
    /// <paramref name="pool"/> (one user, closed loop, bounded by the count): the recorder holds their latencies.
    /// </summary>
    public static async Task<StepRecorder> SerialAsync(ClientPool pool, StepDefinition step, int count, CancellationToken cancellationToken)
    {
        var bounds = new RunBounds { MaxRequests = count, MaxDuration = TimeSpan.FromMinutes(10), RequestTimeout = TimeSpan.FromMinutes(1) };
        var scenario = new Scenario { Name = "serial-" + step.Name, Steps = [step], Load = [new KeepConstantPhase(1, bounds.MaxDuration)] };
        var result = await new ScenarioRunner(pool, bounds).RunAsync(scenario, cancellationToken);
        return result.Steps[0];
    }
}
