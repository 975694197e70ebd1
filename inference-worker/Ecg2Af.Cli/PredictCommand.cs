using System.CommandLine;
using System.Globalization;
using Ecg2Af.Cli.Predict;
using Ecg2Af.Client;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Batch;
using Ecg2Af.Security;

namespace Ecg2Af.Cli;

/// <summary>
/// <c>ecg2af predict PATH...</c> (docs/batch.md): scores every ECG record under the given files, folders, globs and
/// zips (WFDB files grouped by record name), on this machine with the model repository or through a running gateway
/// (<c>--url</c>), and writes one CSV or JSON Lines row per record as it completes. <c>--resume</c> skips the records
/// already in the output. Exit code 0 when every record was scored, 1 when any failed (with a summary by reason), 2
/// when the command could not run, 130 when interrupted.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("PATH") { Description = "ECG files, folders (searched recursively), glob patterns such as 'data/**/*.hea', or .zip archives.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out", "-o") { Description = "Output file (CSV, or JSON Lines when it ends in .jsonl); standard output when omitted." };
        var format = new Option<string?>("--format") { Description = "csv or jsonl (default: from the --out extension, else csv)." };
        format.AcceptOnlyFromAmong("csv", "jsonl");
        var resume = new Option<bool>("--resume") { Description = "Keep the records already in --out and score only the others." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --out file." };
        var url = new Option<string?>("--url") { Description = "Score through a running gateway or worker (e.g. http://127.0.0.1:8080) instead of locally." };
        var name = new Option<string?>("--name") { Description = "--url: your name for the audit trail (or ECG2AF_NAME)." };
        var email = new Option<string?>("--email") { Description = "--url: your email for the audit trail (or ECG2AF_EMAIL)." };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = $"--url: the API key to send (default: {DevApiKey.EnvironmentVariable}, else {DevApiKey.RelativePath} in this folder or one above).",
        };
        var models = new Option<string>("--models") { Description = "Local mode: model repository (<name>/<version>/model.onnx + model.json); the stand-in is built when empty.", DefaultValueFactory = _ => "models" };
        var model = new Option<string>("--model") { Description = "Model name.", DefaultValueFactory = _ => "ecg2af" };
        var version = new Option<string?>("--version") { Description = "Model version (default: the latest ready one)." };
        var batchSize = new Option<int>("--batch-size") { Description = "--url: records per request; local: the batcher's max batch size.", DefaultValueFactory = _ => 32 };
        var parallel = new Option<int>("--parallel") { Description = "--url: requests in flight at once.", DefaultValueFactory = _ => 2 };
        var priority = new Option<string>("--priority") { Description = "--url: lane on the server: batch, routine or stat.", DefaultValueFactory = _ => "batch" };
        priority.AcceptOnlyFromAmong("batch", "routine", "stat");
        var sampleRate = ReadingOptions.SampleRate();
        var allowFlatLeads = ReadingOptions.AllowFlatLeads();
        var units = ReadingOptions.Units();
        var quiet = new Option<bool>("--no-progress") { Description = "No progress display (the summary is still written to standard error)." };
        var command = new Command("predict", "Score many ECG records and write one CSV or JSON Lines row per record.")
        {
            paths, output, format, resume, overwrite, url, name, email, apiKey, models, model, version, batchSize, parallel, priority, sampleRate, allowFlatLeads, units, quiet,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await RunAsync(new Settings(
                    parse.GetValue(paths)!, parse.GetValue(output), parse.GetValue(format), parse.GetValue(resume), parse.GetValue(overwrite),
                    Url(parse.GetValue(url)), parse.GetValue(name) ?? Environment.GetEnvironmentVariable("ECG2AF_NAME"),
                    parse.GetValue(email) ?? Environment.GetEnvironmentVariable("ECG2AF_EMAIL"), parse.GetValue(models)!, parse.GetValue(model)!,
                    parse.GetValue(version), Math.Clamp(parse.GetValue(batchSize), 1, 1024), Math.Clamp(parse.GetValue(parallel), 1, 16),
                    parse.GetValue(priority)!, parse.GetValue(sampleRate), parse.GetValue(allowFlatLeads), parse.GetValue(units), !parse.GetValue(quiet),
                    parse.GetValue(url) is null ? null : DevApiKey.Find(parse.GetValue(apiKey))), cancellationToken);
            }
            catch (PredictException e)
            {
                Console.Error.WriteLine($"ecg2af predict: {e.Message}");
                return 2;
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine($"ecg2af predict: the server could not be reached ({e.Message}).");
                return 2;
            }
        });
        return command;
    }

    private static Uri? Url(string? text) =>
        text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
        : throw new PredictException($"--url '{text}' is not an http(s) address such as http://127.0.0.1:8080.");

    private sealed record Settings(
        string[] Paths, string? Output, string? Format, bool Resume, bool Overwrite, Uri? Url, string? Name, string? Email, string Models,
        string Model, string? Version, int BatchSize, int Parallel, string Priority, double? SampleRate, bool AllowFlatLeads, string? Units, bool Progress,
        string? ApiKey);

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var batchFormat = PredictOutput.FormatFor(settings.Format, settings.Output);
        if (settings.Url is not null && (string.IsNullOrWhiteSpace(settings.Name) || string.IsNullOrWhiteSpace(settings.Email)))
        {
            throw new PredictException("--url needs --name and --email (or ECG2AF_NAME and ECG2AF_EMAIL): the service records who sent each ECG.");
        }

        if (settings.Url is not null && settings.ApiKey is null)
        {
            throw new PredictException($"--url needs an API key: --api-key, {DevApiKey.EnvironmentVariable}, or {DevApiKey.RelativePath} (the local run creates it).");
        }

        using var inputs = PredictInputs.Expand(settings.Paths, new BatchLimits(int.MaxValue, long.MaxValue));
        foreach (var missing in inputs.Missing)
        {
            Console.Error.WriteLine($"ecg2af predict: nothing found at '{missing}'.");
        }

        if (inputs.Files.Count == 0)
        {
            throw new PredictException("no files to score.");
        }

        var records = BatchPlanner.Plan(inputs.Files);
        await using var output = PredictOutput.Open(settings.Output, batchFormat, settings.Resume, settings.Overwrite);
        var pending = records.Where(r => !output.Done.ContainsKey(r.Name)).ToList();
        var skipped = records.Count - pending.Count;
        var earlierFailures = records.Count(r => output.Done.TryGetValue(r.Name, out var status) && status != 200);
        Console.Error.WriteLine(skipped > 0
            ? $"{records.Count} record(s) in {inputs.Files.Count} file(s); {skipped} already in {settings.Output}, {pending.Count} to score."
            : $"{records.Count} record(s) in {inputs.Files.Count} file(s).");

        var readOptions = EcgReadOptions.Default with { SampleRateHz = settings.SampleRate, Units = settings.Units, AllowFlatLeads = settings.AllowFlatLeads };
        var progress = new PredictProgress(pending.Count, settings.Progress);
        var transient = 0;
        IAsyncEnumerable<BatchItem> items;
        LocalScoring? local = null;
        Ecg2AfClient? client = null;
        try
        {
            if (settings.Url is { } url)
            {
                var hints = new Dictionary<string, string>(StringComparer.Ordinal);
                if (settings.SampleRate is { } hz)
                {
                    hints["sample_rate_hz"] = hz.ToString(CultureInfo.InvariantCulture);
                }

                if (settings.AllowFlatLeads)
                {
                    hints["allow_flat_leads"] = "true";
                }

                if (settings.Units is { } u)
                {
                    hints["units"] = u;
                }

                client = new Ecg2AfClient(new Ecg2AfClientOptions { BaseAddress = url, ApiKey = settings.ApiKey });
                var remote = new RemoteScoring(client, new RemoteSettings(settings.Name!.Trim(), settings.Email!.Trim(),
                    settings.Model == "ecg2af" ? null : settings.Model, settings.Version, settings.Priority, settings.BatchSize,
                    24L * 1024 * 1024, settings.Parallel, hints));
                items = remote.ScoreAsync(pending, cancellationToken);
                Console.Error.WriteLine($"Scoring through {url}.");
            }
            else
            {
                local = LocalScoring.Open(settings.Models, settings.Model, settings.Version, settings.BatchSize, m => Console.Error.WriteLine(m));
                items = local.ScoreAsync(pending, readOptions, cancellationToken);
                Console.Error.WriteLine($"Scoring locally with {local.Model}.");
            }

            await output.Writer.StartAsync(CancellationToken.None);
            try
            {
                await foreach (var item in items)
                {
                    progress.Add(item);
                    if (item.Status is 502 or 503 or 504)
                    {
                        // Not an answer about the ECG (the server was busy, stopping, or cut the answer short): no row,
                        // so a later --resume scores the record again.
                        transient++;
                        continue;
                    }

                    // Written whole and flushed before the next: an interruption never loses a finished row.
                    await output.Writer.WriteAsync(item, CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                progress.Finish();
                Console.Error.WriteLine($"Interrupted after {progress.Done} record(s); run again with --resume to finish.");
                return 130;
            }

            await output.Writer.CompleteAsync(CancellationToken.None);
        }
        finally
        {
            local?.Dispose();
            client?.Dispose();
        }

        progress.Finish();
        Summarize(progress, skipped, earlierFailures, settings.Output);
        if (transient > 0)
        {
            Console.Error.WriteLine($"{transient} record(s) got no answer (503, 504 or an answer cut short) and were not written; run again with --resume to score them.");
        }

        return progress.Failed + earlierFailures > 0 ? 1 : 0;
    }

    private static void Summarize(PredictProgress progress, int skipped, int earlierFailures, string? output)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"Scored {progress.Done} record(s) in {PredictProgress.Clock(progress.Elapsed)} ({progress.Rate:F1} records/s): {progress.Done - progress.Failed} ok, {progress.Failed} failed.");
        if (skipped > 0)
        {
            line += $" Skipped {skipped} already in {output}{(earlierFailures > 0 ? $" ({earlierFailures} of them failed earlier)" : "")}.";
        }

        Console.Error.WriteLine(line);
        if (progress.Reasons.Count > 0)
        {
            Console.Error.WriteLine("Failures by reason:");
            foreach (var (reason, count) in progress.Reasons.OrderByDescending(r => r.Value))
            {
                Console.Error.WriteLine($"  {reason}: {count}");
            }
        }
    }
}
