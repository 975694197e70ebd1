using System.CommandLine;
using System.Globalization;
using Ecg2Af.Inference.StandIn;

namespace Ecg2Af.Cli;

/// <summary><c>ecg2af standin</c>: writes the seeded stand-in model to <c>&lt;out&gt;/&lt;name&gt;/&lt;version&gt;/</c>.</summary>
internal static class StandInCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Models root folder.", DefaultValueFactory = _ => "models" };
        var name = new Option<string>("--name") { Description = "Model name (folder under --out).", DefaultValueFactory = _ => "ecg2af" };
        var version = new Option<string>("--version") { Description = "Model version (folder under the name).", DefaultValueFactory = _ => "1" };
        var seed = new Option<int>("--seed") { Description = "Weight seed; the same seed gives a byte-identical model.onnx.", DefaultValueFactory = _ => StandInModel.DefaultSeed };
        var command = new Command("standin", "Build the ECG2AF stand-in model (exact input/output contract, seeded weights; not clinically meaningful).")
        {
            output, name, version, seed,
        };
        command.SetAction(parse =>
        {
            var directory = Path.Combine(parse.GetValue(output)!, parse.GetValue(name)!, parse.GetValue(version)!);
            var signature = StandInModel.Write(directory, parse.GetValue(seed), parse.GetValue(name), parse.GetValue(version));
            var provenance = signature.Provenance;
            var culture = CultureInfo.InvariantCulture;
            Console.WriteLine($"Wrote {Path.Combine(directory, "model.onnx")} and model.json");
            Console.WriteLine(string.Create(culture, $"  parameters:                {provenance.Parameters:N0}"));
            Console.WriteLine(string.Create(culture, $"  multiply-accumulates/ECG:  {provenance.MacsPerInput:N0} ({provenance.MacsPerInput / 1e9:F2} GMAC)"));
            Console.WriteLine($"  sha256:                    {provenance.SourceSha256}");
            Console.WriteLine($"  {StandInModel.Notice}");
            return 0;
        });
        return command;
    }
}
