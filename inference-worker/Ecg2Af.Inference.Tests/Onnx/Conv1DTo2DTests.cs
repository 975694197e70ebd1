using Ecg2Af.Ecg;
using Ecg2Af.Inference.Keras;
using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.Inference.Tests.Keras;
using Onnx;
using Xunit.Abstractions;

namespace Ecg2Af.Inference.Tests.Onnx;

/// <summary>
/// The served graph runs every 1-D convolution and pooling as 2-D with height 1 (<see cref="Conv1DTo2D"/>), and gives
/// the outputs of the 1-D graph within 1e-5 (relative above 1) on real ECGs: the stand-in, both real Keras fixtures and a synthetic Keras
/// file of the full ECG2AF topology, each loaded the way the worker loads a version (<see cref="LoadedModel.Load"/>,
/// ONNX Runtime's full graph optimisation) with <see cref="RuntimeOptions.Conv1DAs2D"/> on and off.
/// </summary>
public sealed class Conv1DTo2DTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-5;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("ecg2af-conv2d-");

    [Fact]
    public void StandIn_RealEcgs_SameOutputsAsThe1DGraph()
    {
        var version = Path.Combine(_directory.FullName, "ecg2af", "1");
        var signature = StandInModel.Write(version);
        var batch = RealEcgs(signature,
            ["muse-xml", "muse-sinus.xml"], ["wfdb", "muse-af.hea"], ["wfdb-challenge-mat", "JS00001.hea"], ["hl7-aecg", "Example_aECG.xml"]);

        var graph = AssertSameOutputs(version, batch, 4);

        // Every convolution and pooling of the trunk is lifted, one region: a single Unsqueeze for the input.
        var original = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(version, ModelFiles.Onnx)));
        Assert.Equal(original.Graph.Node.Count(n => n.OpType == "Conv"), graph.Convolutions);
        Assert.Equal(original.Graph.Node.Count(n => n.OpType is "MaxPool" or "AveragePool"), graph.Pools);
        var rewritten = ModelProto.Parser.ParseFrom(graph.Bytes);
        Assert.Single(rewritten.Graph.Node, n => n.OpType == "Unsqueeze");
        Assert.All(rewritten.Graph.Node.Where(n => n.OpType == "Conv"), n =>
            Assert.Equal(4, rewritten.Graph.Initializer.Single(i => i.Name == n.Input[1]).Dims.Count));
    }

    [Fact]
    public void EcgCnnxFixture_RealEcg_SameOutputsAsThe1DGraph()
    {
        var result = KerasImporter.ImportTo(SharedFiles.Path("keras-fixtures", "ECGCNNX_V4.h5"), Models, KerasFixtureTests.EcgCnnxOptions);
        var record = ChallengeMatRecord.Read(SharedFiles.Path("ecg-samples", "wfdb-challenge-mat", "JS00001.hea"));
        var padded = new float[30000 * 12];
        record.Millivolts.CopyTo(padded, 0);
        var reversed = new float[30000 * 12];
        record.Millivolts.CopyTo(reversed, 0);
        reversed.AsSpan(0, record.Millivolts.Length).Reverse();

        var graph = AssertSameOutputs(Version(result), [.. padded, .. reversed], 2);

        Assert.Equal(9, graph.Convolutions);
    }

    [Fact]
    public void MitBihFixture_RealBeat_SameOutputsAsThe1DGraph()
    {
        var options = new KerasImportOptions
        {
            Name = "mitbih",
            Labels = ["N", "S", "V", "F", "Q"],
            Leads = ["II"],
            SampleRateHz = 125,
            Normalization = NormalizationKind.None,
            LengthPolicy = LengthPolicy.Pad,
        };
        var result = KerasImporter.ImportTo(SharedFiles.Path("keras-fixtures", "baseline_cnn_mitbih_final_model.h5"), Models, options);
        using var json = System.Text.Json.JsonDocument.Parse(
            File.ReadAllText(SharedFiles.Path("keras-fixtures", "baseline_cnn_mitbih_test_sample.json")));
        var sample = json.RootElement.GetProperty("sample").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

        var graph = AssertSameOutputs(Version(result), [.. sample, .. sample.Reverse()], 2);

        Assert.True(graph.Convolutions > 0 && graph.Pools > 0, $"{graph.Convolutions} convolutions, {graph.Pools} pools lifted");
    }

    [Fact]
    public void SyntheticEcg2AfTopologyImport_RealEcgs_SameOutputsAsThe1DGraph()
    {
        // The stand-in's template (ECG2AF's shape: 5000 × 12, kernel 71, dense blocks, pools, four 2021 heads) written
        // as a real Keras 2 .h5 file and imported, so the importer's graph is what is rewritten.
        var network = StandInModel.Build(seed: 7);
        var path = Path.Combine(_directory.FullName, "ecg2af_like.h5");
        KerasFileWriter.Write(path, network, SyntheticFormat.Keras2H5);
        var result = KerasImporter.ImportTo(path, Models, new KerasImportOptions { Name = "ecg2af-like" });
        var batch = RealEcgs(result.Signature, ["muse-xml", "muse-sinus.xml"], ["wfdb", "muse-af.hea"]);

        var graph = AssertSameOutputs(Version(result), batch, 2);

        Assert.True(graph.Convolutions >= 10, $"{graph.Convolutions} convolutions lifted");
    }

    [Fact]
    public void Rewrite_GraphWithout1DConvolutions_ReturnsTheSameBytes()
    {
        var dense = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        dense.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var relu = new NodeProto { OpType = "Relu", Name = "r" };
        relu.Input.Add("x");
        relu.Output.Add("y");
        dense.Graph.Node.Add(relu);
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(dense);

        var result = Conv1DTo2D.Rewrite(bytes);

        Assert.False(result.Changed);
        Assert.Same(bytes, result.Model);
    }

    [Fact]
    public void Load_SwitchOff_ServesModelOnnxAsItIs()
    {
        var version = Path.Combine(_directory.FullName, "ecg2af", "1");
        StandInModel.Write(version);

        using var model = LoadedModel.Load(version, Options(conv1DAs2D: false));

        Assert.Null(model.Graph.Rewrite);
        Assert.Equal(model.OnnxSha256, model.Graph.Sha256);
        Assert.Equal(File.ReadAllBytes(Path.Combine(version, ModelFiles.Onnx)), model.Graph.Bytes);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private string Models => Path.Combine(_directory.FullName, "models");

    private string Version(KerasImportResult result) => Path.Combine(Models, result.Signature.Name, result.Signature.Version);

    private static RuntimeOptions Options(bool conv1DAs2D) =>
        new() { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1, Conv1DAs2D = conv1DAs2D };

    /// <summary>Real ECG files read and preprocessed for <paramref name="signature"/> as the worker does, back to back.</summary>
    private static float[] RealEcgs(ModelSignature signature, params string[][] files)
    {
        var batch = new List<float>();
        foreach (var parts in files)
        {
            var path = SharedFiles.Path(["ecg-samples", .. parts]);
            var ecgFiles = Directory.EnumerateFiles(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + ".*")
                .Select(f => new EcgFile(Path.GetFileName(f), File.ReadAllBytes(f)))
                .ToList();
            batch.AddRange(ScoringPipeline.Prepare(ecgFiles, EcgReadOptions.Default, signature).Prepared.Data);
        }

        return [.. batch];
    }

    /// <summary>Loads <paramref name="version"/> with the rewrite off and on and compares every head on the batch.</summary>
    private ServedGraph AssertSameOutputs(string version, float[] batch, int batchSize)
    {
        using var plain = LoadedModel.Load(version, Options(conv1DAs2D: false));
        using var lifted = LoadedModel.Load(version, Options(conv1DAs2D: true));
        Assert.Equal(ServedGraph.Conv1DAs2D, lifted.Graph.Rewrite);
        Assert.NotEqual(lifted.OnnxSha256, lifted.Graph.Sha256);
        Assert.Equal(ModelFiles.Sha256(lifted.Graph.Bytes), lifted.Graph.Sha256);

        var expected = plain.Runner.Run(batch, batchSize);
        var actual = lifted.Runner.Run(batch, batchSize);

        var worst = 0.0;
        for (var h = 0; h < expected.Length; h++)
        {
            Assert.Equal(expected[h].Length, actual[h].Length);
            for (var i = 0; i < expected[h].Length; i++)
            {
                var diff = Math.Abs(expected[h][i] - actual[h][i]) / Math.Max(1, Math.Abs(expected[h][i]));
                worst = Math.Max(worst, diff);
                Assert.True(diff <= Tolerance,
                    $"{plain.Signature.Outputs[h].Name}[{i}]: 1-D {expected[h][i]}, 2-D {actual[h][i]} (relative |Δ| {diff:E2})");
            }
        }

        output.WriteLine($"{plain.Name}: {lifted.Graph.Convolutions} convolutions and {lifted.Graph.Pools} pools as 2-D, " +
            $"batch {batchSize}, max relative |2-D − 1-D| {worst:E2}");
        return lifted.Graph;
    }
}
