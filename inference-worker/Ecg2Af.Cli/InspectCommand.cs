using System.CommandLine;
using System.Globalization;
using Ecg2Af.Inference;
using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Cli;

/// <summary><c>ecg2af inspect MODEL</c>: inputs, outputs, parameters and multiply-accumulates of an ONNX file or version folder.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "A model.onnx file, or a version folder holding model.onnx (and model.json)." };
        var command = new Command("inspect", "Show a model's inputs, outputs, parameter count and multiply-accumulates per input.") { model };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var onnxPath = Directory.Exists(path) ? Path.Combine(path, ModelFiles.Onnx) : path;
            if (!File.Exists(onnxPath))
            {
                Console.Error.WriteLine($"No ONNX model at {onnxPath}.");
                return 2;
            }

            var info = OnnxModelInfo.Read(onnxPath);
            var culture = CultureInfo.InvariantCulture;
            Console.WriteLine($"{onnxPath}: IR {info.IrVersion}, opset {info.Opset}, {info.Nodes} nodes");
            foreach (var input in info.Inputs)
            {
                Console.WriteLine($"  input   {input}");
            }

            foreach (var output in info.Outputs)
            {
                Console.WriteLine($"  output  {output}");
            }

            Console.WriteLine(string.Create(culture, $"  parameters: {info.Parameters:N0}"));
            Console.WriteLine(info.MacsPerInput is { } macs
                ? string.Create(culture, $"  multiply-accumulates per input: {macs:N0} ({macs / 1e9:F3} GMAC)")
                : $"  multiply-accumulates per input: unknown ({info.MacsNote})");
            foreach (var (key, value) in info.Metadata)
            {
                Console.WriteLine($"  metadata {key} = {value}");
            }

            var signaturePath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(onnxPath))!, ModelFiles.Signature);
            if (File.Exists(signaturePath))
            {
                var signature = ModelSignature.Load(signaturePath);
                var input = signature.Input;
                Console.WriteLine($"  model.json: {signature.Name} v{signature.Version}, weights {signature.Provenance.Weights} from {signature.Provenance.Source}");
                Console.WriteLine(string.Create(culture,
                    $"    input {input.Name}: {input.Samples} samples at {input.SampleRateHz} Hz, leads {string.Join(",", input.Leads)}, {input.LengthPolicy}, {input.Normalization}, {input.Units}"));
                foreach (var output in signature.Outputs)
                {
                    var labels = output.Labels is null ? "" : $" [{string.Join(", ", output.Labels)}]";
                    Console.WriteLine($"    output {output.Name}: {output.Kind} ×{output.Size}, role {output.Role}{labels}");
                }

                if (signature.Provenance.Notice is { } notice)
                {
                    Console.WriteLine($"    notice: {notice}");
                }
            }

            return 0;
        });
        return command;
    }
}
