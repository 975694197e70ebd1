using System.CommandLine;
using System.Globalization;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Keras;
using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Cli;

/// <summary>
/// <c>ecg2af import FILE --name N</c>: a Keras <c>.h5</c> or <c>.keras</c> model → <c>&lt;out&gt;/&lt;name&gt;/&lt;version&gt;/</c>
/// (<c>model.onnx</c> + <c>model.json</c>). Flags left out are read from the model or take the ECG2AF defaults.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Keras model: legacy .h5 (Keras 2 or 3) or .keras (Keras 3)." };
        var name = new Option<string>("--name") { Description = "Model name (folder under --out).", Required = true };
        var version = new Option<string>("--version") { Description = "Model version (folder under the name).", DefaultValueFactory = _ => "1" };
        var decoder = new Option<string>("--decoder")
        {
            Description = "How outputs are read: auto (ECG2AF heads by output name; else one sigmoid → multilabel, one softmax → softmax), "
                + "ecg2af-2021, ecg2af-2024, multilabel, softmax.",
            DefaultValueFactory = _ => KerasImporter.Auto,
        };
        decoder.AcceptOnlyFromAmong(KerasImporter.Auto, KnownDecoders.Ecg2Af2021, KnownDecoders.Ecg2Af2024, KnownDecoders.Multilabel, KnownDecoders.Softmax);
        var leads = new Option<string>("--leads") { Description = "Comma-separated lead names of the input channels (default: the 12 standard leads)." };
        var sampleRate = new Option<double?>("--sample-rate") { Description = "Input sampling rate in Hz (default 500)." };
        var samples = new Option<int?>("--samples") { Description = "Input length in samples (must match the model when it fixes one)." };
        var normalization = new Option<string>("--normalization") { Description = "zscore (one z-score over the whole ECG, the default) or none." };
        normalization.AcceptOnlyFromAmong("zscore", "none");
        var lengthPolicy = new Option<string>("--length-policy") { Description = "resample (default: resample to the rate, require the full duration) or pad (zero-pad/crop)." };
        lengthPolicy.AcceptOnlyFromAmong("resample", "pad");
        var units = new Option<string>("--units") { Description = "Input units when not normalised: mV (default) or uV." };
        units.AcceptOnlyFromAmong("mV", "uV");
        var labels = new Option<string>("--labels") { Description = "Comma-separated class labels of a multilabel or softmax output, in channel order." };
        var output = new Option<string>("--out") { Description = "Models root folder.", DefaultValueFactory = _ => "models" };
        var command = new Command("import", "Import a Keras model (.h5 or .keras) as an ONNX model version with its model.json.")
        {
            file, name, version, decoder, leads, sampleRate, samples, normalization, lengthPolicy, units, labels, output,
        };
        command.SetAction(parse =>
        {
            var options = new KerasImportOptions
            {
                Name = parse.GetValue(name)!,
                Version = parse.GetValue(version)!,
                Decoder = parse.GetValue(decoder),
                Leads = List(parse.GetValue(leads)),
                SampleRateHz = parse.GetValue(sampleRate),
                Samples = parse.GetValue(samples),
                Normalization = parse.GetValue(normalization) switch
                {
                    "zscore" => NormalizationKind.GlobalZScore,
                    "none" => NormalizationKind.None,
                    _ => null,
                },
                LengthPolicy = parse.GetValue(lengthPolicy) switch
                {
                    "resample" => LengthPolicy.Resample,
                    "pad" => LengthPolicy.Pad,
                    _ => null,
                },
                Units = parse.GetValue(units),
                Labels = List(parse.GetValue(labels)),
            };
            var source = parse.GetValue(file)!;
            if (!source.Exists)
            {
                Console.Error.WriteLine($"No such file: {source.FullName}");
                return 2;
            }

            KerasImportResult result;
            try
            {
                result = KerasImporter.ImportTo(source.FullName, parse.GetValue(output)!, options);
            }
            catch (KerasImportException e)
            {
                Console.Error.WriteLine($"Import failed: {e.Message}");
                return 1;
            }

            var signature = result.Signature;
            var culture = CultureInfo.InvariantCulture;
            Console.WriteLine($"Imported {source.Name} (Keras {result.KerasVersion ?? "?"}, {result.Format}) → {Path.Combine(parse.GetValue(output)!, options.Name, options.Version)}");
            Console.WriteLine(string.Create(culture,
                $"  input  {signature.Input.Name} [N, {signature.Input.Samples}, {signature.Input.Leads.Count}] {signature.Input.SampleRateHz} Hz {signature.Input.LengthPolicy} {signature.Input.Normalization} {signature.Input.Units}"));
            foreach (var head in signature.Outputs)
            {
                Console.WriteLine($"  output {head.Name} [N, {head.Size}] {head.Kind} {head.Role}");
            }

            Console.WriteLine($"  decoder {signature.Provenance.Decoder}");
            Console.WriteLine(string.Create(culture, $"  parameters {signature.Provenance.Parameters:N0}, multiply-accumulates per input {signature.Provenance.MacsPerInput:N0}"));
            Console.WriteLine($"  source sha256 {signature.Provenance.SourceSha256}");
            return 0;
        });
        return command;
    }

    private static string[]? List(string? value) =>
        value is null ? null : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
