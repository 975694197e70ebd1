using System.CommandLine;
using System.Text.Json;
using Ecg2Af.Ecg;
using Ecg2Af.Inference;
using Ecg2Af.Inference.Scoring;

namespace Ecg2Af.Cli;

/// <summary>
/// <c>ecg2af preprocess FILE...</c>: the files of one record turned into exactly what the model sees (JSON: lead names,
/// normalisation mean and std, data [samples][leads]), or with <c>--stage mv</c> the decoded millivolt leads.
/// The same JSON as <c>POST /api/v1/ecg:preprocess</c>.
/// </summary>
internal static class PreprocessCommand
{
    // Snake case like the HTTP API; not indented, since the model stage holds 60,000 numbers.
    private static readonly JsonSerializerOptions Json = new(ModelSignature.JsonOptions) { WriteIndented = false };

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "The files of one record (e.g. a .hea and its .dat), or one file or .zip.", Arity = ArgumentArity.OneOrMore };
        var stage = new Option<string>("--stage") { Description = "model (the input tensor) or mv (decoded millivolt leads).", DefaultValueFactory = _ => "model" };
        stage.AcceptOnlyFromAmong("model", "mv");
        var models = new Option<string>("--models") { Description = "Models root folder holding <name>/<version>/model.json.", DefaultValueFactory = _ => "models" };
        var model = new Option<string>("--model") { Description = "Model whose input contract to apply.", DefaultValueFactory = _ => "ecg2af" };
        var version = new Option<string?>("--version") { Description = "Model version (default: the highest numeric version)." };
        var sampleRate = ReadingOptions.SampleRate();
        var allowFlatLeads = ReadingOptions.AllowFlatLeads();
        var units = ReadingOptions.Units();
        var output = new Option<string?>("--out") { Description = "Write the JSON here instead of standard output." };
        var command = new Command("preprocess", "Show what the model would receive for one ECG record.")
        {
            files, stage, models, model, version, sampleRate, allowFlatLeads, units, output,
        };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(files)!;
            var missing = paths.Where(p => !File.Exists(p)).ToList();
            if (missing.Count > 0)
            {
                Console.Error.WriteLine($"No such file: {string.Join(", ", missing)}");
                return 2;
            }

            var ecgFiles = paths.Select(p => new EcgFile(Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
            var options = EcgReadOptions.Default with { SampleRateHz = parse.GetValue(sampleRate), Units = parse.GetValue(units), AllowFlatLeads = parse.GetValue(allowFlatLeads) };
            try
            {
                object view;
                if (parse.GetValue(stage) == "mv")
                {
                    view = MillivoltView.From(EcgReader.Read(ecgFiles, options));
                }
                else
                {
                    var signature = LoadSignature(parse.GetValue(models)!, parse.GetValue(model)!, parse.GetValue(version));
                    view = ModelInputView.From(signature, ScoringPipeline.Prepare(ecgFiles, options, signature));
                }

                var json = JsonSerializer.Serialize(view, view.GetType(), Json);
                if (parse.GetValue(output) is { } path)
                {
                    File.WriteAllText(path, json);
                }
                else
                {
                    Console.WriteLine(json);
                }

                return 0;
            }
            catch (EcgFormatException e)
            {
                Console.Error.WriteLine($"{e.Kind}: {e.Message}");
                return 1;
            }
            catch (FileNotFoundException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    /// <summary>The model's signature from the repository; the ECG2AF contract when the default model is not built yet.</summary>
    private static ModelSignature LoadSignature(string root, string name, string? version)
    {
        var directory = version is not null ? Path.Combine(root, name, version) : ModelRepositoryLayout.LatestVersion(Path.Combine(root, name));
        if (directory is not null && File.Exists(Path.Combine(directory, ModelFiles.Signature)))
        {
            return ModelSignature.Load(Path.Combine(directory, ModelFiles.Signature));
        }

        if (name == "ecg2af" && version is null)
        {
            return new ModelSignature
            {
                Name = name,
                Version = "stand-in",
                Input = Ecg2AfHeads.Input(),
                Outputs = Ecg2AfHeads.Outputs2021,
                Provenance = new Provenance { Weights = Provenance.StandIn, Source = "ECG2AF input contract" },
            };
        }

        throw new FileNotFoundException($"No {ModelFiles.Signature} for model '{name}' version '{version ?? "latest"}' under {root}.");
    }
}
