using Ecg2Af.Ecg;
using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.Reference;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.Inference.Tests.Keras;
using Ecg2Af.Inference.Tests.Onnx;
using Ecg2Af.Inference.Tests.Reference;
using Xunit.Abstractions;

namespace Ecg2Af.Inference.Tests.StandIn;

/// <summary>One stand-in build shared by the tests of this class (building and loading it takes a few seconds).</summary>
public sealed class StandInFixture : IDisposable
{
    public StandInFixture()
    {
        Network = StandInModel.Build();
        Onnx = StandInModel.ToOnnx(Network, StandInModel.DefaultSeed);
        Session = new OrtTestSession(Onnx);
    }

    public Network Network { get; }

    public byte[] Onnx { get; }

    internal OrtTestSession Session { get; }

    public void Dispose() => Session.Dispose();
}

public sealed class StandInModelTests(StandInFixture fixture, ITestOutputHelper output) : IClassFixture<StandInFixture>
{
    private const int Samples = 5000;
    private const int LeadCount = 12;

    [Fact]
    public void Session_StandIn_HasEcg2AfInputAndFour2021HeadsWithDynamicBatch()
    {
        var session = fixture.Session.Session;
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(Ecg2AfHeads.InputName, input.Key);
        Assert.Equal([-1, Samples, LeadCount], input.Value.Dimensions);
        Assert.Equal(OnnxExport.BatchDimension, input.Value.SymbolicDimensions[0]);

        Assert.Equal(Ecg2AfHeads.Outputs2021.Select(o => o.Name), session.OutputNames);
        foreach (var head in Ecg2AfHeads.Outputs2021)
        {
            var meta = session.OutputMetadata[head.Name];
            Assert.Equal([-1, head.Size], meta.Dimensions);
            Assert.Equal(OnnxExport.BatchDimension, meta.SymbolicDimensions[0]);
        }

        var info = OnnxModelInfo.From(global::Onnx.ModelProto.Parser.ParseFrom(fixture.Onnx));
        Assert.Equal(8, info.IrVersion);
        Assert.Equal(17, info.Opset);
        Assert.Equal(Provenance.StandIn, info.Metadata["ecg2af.weights"]);
    }

    [Fact]
    public void ToOnnx_SameSeed_IsByteIdenticalAndOtherSeedDiffers()
    {
        var again = StandInModel.ToOnnx(StandInModel.Build(), StandInModel.DefaultSeed);
        var other = StandInModel.ToOnnx(StandInModel.Build(StandInModel.DefaultSeed + 1), StandInModel.DefaultSeed + 1);

        Assert.Equal(ModelFiles.Sha256(fixture.Onnx), ModelFiles.Sha256(again));
        Assert.NotEqual(ModelFiles.Sha256(fixture.Onnx), ModelFiles.Sha256(other));
    }

    [Fact]
    public void Cost_StandIn_MatchesSection45FormulasAndTheOnnxGraph()
    {
        // §4.5 formulas written out for the template: residual conv, three dense-conv blocks after a pool each,
        // Flatten → Dense(256) (encoder embed) → Dense(256) (merge embed) → heads.
        const int k = 71, f0 = 32, d = 32, blocks = 3, blockSize = 3, width = 256;
        long parameters = (k * LeadCount * f0) + f0;
        long macs = (long)Samples * k * LeadCount * f0;
        var length = Samples;
        for (var j = 0; j < blocks; j++)
        {
            length /= 2;
            for (var b = 1; b <= blockSize; b++)
            {
                var cin = f0 + ((b - 1) * d);
                parameters += (k * cin * d) + d;
                macs += (long)length * k * cin * d;
            }
        }

        var flat = length * d;
        parameters += ((long)flat * width) + width + (width * width) + width;
        macs += ((long)flat * width) + (width * width);
        var heads = new[] { 50, 2, 1, 2 };
        parameters += heads.Sum(u => (width * u) + u);
        macs += heads.Sum(u => width * u);

        var cost = ModelCost.Of(fixture.Network);
        var graph = OnnxModelInfo.From(global::Onnx.ModelProto.Parser.ParseFrom(fixture.Onnx));
        output.WriteLine($"stand-in: {cost.Parameters:N0} parameters, {cost.MacsPerInput:N0} MACs per ECG");

        Assert.Equal(625, length);
        Assert.Equal(parameters, cost.Parameters);
        Assert.Equal(macs, cost.MacsPerInput);
        Assert.Equal(parameters, graph.Parameters);
        Assert.Equal(macs, graph.MacsPerInput);
        // The document's "2.05 GMAC" holds for these heads too; its 6.55 M parameters include the 2024 death head.
        Assert.Equal(2.05, Math.Round(macs / 1e9, 2));
    }

    [Fact]
    public void Cost_TemplateWith2024Heads_GivesTheDocumentsReferencePoint()
    {
        var network = Ml4hTemplateBuilder.Build(new Ml4hTemplate { Heads = Ml4hTemplate.Heads2024 }, 1);

        var cost = ModelCost.Of(network);

        // ecg2af-model.md §4.5: "the ml4h 2024 defaults in the Q24 template give 6.55 M params and 2.05 GMAC",
        // 5.12 M of them in Flatten(625×32) → Dense(256).
        Assert.Equal(6.55, Math.Round(cost.Parameters / 1e6, 2));
        Assert.Equal(2.05, Math.Round(cost.MacsPerInput / 1e9, 2));
        var embed = network.Layers.OfType<DenseLayer>().Single(l => l.Name == "embed_ecg_5000_std_continuous");
        Assert.Equal(5.12, Math.Round((embed.Kernel.Length + embed.Bias!.Length) / 1e6, 2));
    }

    [Fact]
    public void Run_SyntheticEcg_OutputsAreInsideTheirRangesNotSaturated()
    {
        var male = new List<double>();
        foreach (var (rate, seed) in new[] { (60.0, 1), (72.0, 2), (110.0, 3) })
        {
            var outputs = Heads(fixture.Session.Run(SyntheticEcg.ZScored(Samples, rate, seed), 1, Samples, LeadCount));
            AssertPlausible(outputs, $"synthetic {rate} bpm");
            male.Add(outputs[Ecg2AfHeads.Sex2021][1]);
        }

        // The heads respond to the input rather than sitting on their biases.
        Assert.True(male.Max() - male.Min() > 0.02, string.Join(", ", male));
    }

    [Fact]
    public void Run_RealChallengeEcg_OutputsAreInsideTheirRangesNotSaturated()
    {
        var record = ChallengeMatRecord.Read(SharedFiles.Path("ecg-samples", "wfdb-challenge-mat", "JS00001.hea"));
        Assert.Equal(Ecg2Af.Ecg.Leads.Standard12, record.Leads);
        var input = (float[])record.Millivolts.Clone();
        Normalization.GlobalZScore(input, 1e-6);

        var outputs = Heads(fixture.Session.Run(input, 1, Samples, LeadCount));

        AssertPlausible(outputs, "JS00001");
    }

    [Fact]
    public void Run_OrtOutputs_MatchManagedReferenceForwardPass()
    {
        var input = SyntheticEcg.ZScored(Samples, 75, 7);

        var ort = Heads(fixture.Session.Run(input, 1, Samples, LeadCount));
        var reference = ReferenceForward.Run(fixture.Network, input);

        foreach (var head in Ecg2AfHeads.Outputs2021)
        {
            var expected = reference[head.Name];
            var actual = ort[head.Name];
            var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
            output.WriteLine($"{head.Name}: max |ORT − reference| (relative above 1) = {worst:E2}");
            Assert.True(worst < 1e-5, $"{head.Name}: {worst:E2}");
        }
    }

    [Fact]
    public void Run_InputInsideBatchOfFour_GivesSameOutputsAsAlone()
    {
        var batch = Enumerable.Range(0, 4).SelectMany(i => SyntheticEcg.ZScored(Samples, 55 + (20 * i), 10 + i)).ToArray();
        var alone = SyntheticEcg.ZScored(Samples, 55 + (20 * 2), 12);

        var batched = fixture.Session.Run(batch, 4, Samples, LeadCount);
        var single = fixture.Session.Run(alone, 1, Samples, LeadCount);

        foreach (var ((name, all), (_, one)) in batched.Zip(single))
        {
            var width = one.Length;
            Assert.Equal(one, all.AsSpan(2 * width, width).ToArray());
            Assert.NotEqual(one, all.AsSpan(0, width).ToArray());
            output.WriteLine($"{name}: identical");
        }
    }

    [Fact]
    public void Write_VersionDirectory_WritesModelAndSignatureDescribingIt()
    {
        var root = Directory.CreateTempSubdirectory("ecg2af-standin-");
        try
        {
            var version = Path.Combine(root.FullName, "ecg2af", "1");

            var returned = StandInModel.Write(version);

            var onnxPath = Path.Combine(version, "model.onnx");
            var signature = ModelSignature.Load(Path.Combine(version, "model.json"));
            Assert.Equal("ecg2af", signature.Name);
            Assert.Equal("1", signature.Version);
            Assert.Equal(Ecg2AfHeads.InputName, signature.Input.Name);
            Assert.Equal(Json(Ecg2AfHeads.Outputs2021), Json(signature.Outputs));
            Assert.Equal(Provenance.StandIn, signature.Provenance.Weights);
            Assert.Contains($"seed={StandInModel.DefaultSeed}", signature.Provenance.Source, StringComparison.Ordinal);
            Assert.Equal(ModelFiles.Sha256(onnxPath), signature.Provenance.SourceSha256);
            Assert.Equal(ModelFiles.Sha256(fixture.Onnx), signature.Provenance.SourceSha256);
            Assert.Equal(ModelCost.Of(fixture.Network).Parameters, signature.Provenance.Parameters);
            Assert.Equal(ModelCost.Of(fixture.Network).MacsPerInput, signature.Provenance.MacsPerInput);
            Assert.Contains("not clinically meaningful", signature.Provenance.Notice, StringComparison.Ordinal);
            Assert.Equal(returned.Provenance.SourceSha256, signature.Provenance.SourceSha256);
            Assert.Empty(Directory.GetFiles(version, "*.tmp"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, ModelSignature.JsonOptions);

    private static Dictionary<string, double[]> Heads(IReadOnlyList<(string Name, float[] Values)> results) =>
        results.ToDictionary(r => r.Name, r => Array.ConvertAll(r.Values, v => (double)v));

    private void AssertPlausible(Dictionary<string, double[]> outputs, string label)
    {
        var survival = outputs[Ecg2AfHeads.AfSurvival];
        var risk = 1 - survival.Take(25).Aggregate(1.0, (p, y) => p * y);
        var sex = outputs[Ecg2AfHeads.Sex2021];
        var age = outputs[Ecg2AfHeads.Age2021][0];
        var af = outputs[Ecg2AfHeads.AfInRead];
        output.WriteLine(FormattableString.Invariant(
            $"{label}: y[0..24] {survival.Take(25).Min():F4}..{survival.Take(25).Max():F4}, 5-y risk {risk:F3}, sex [{sex[0]:F3}, {sex[1]:F3}], age z {age:F3} ({(age * Ecg2AfHeads.AgeStd2021) + Ecg2AfHeads.AgeMean2021:F1} y), AF in read [{af[0]:F3}, {af[1]:F3}]"));

        Assert.All(survival.Take(25), y => Assert.InRange(y, 0.9, 0.9995));
        Assert.InRange(risk, 0.05, 0.6);
        foreach (var softmax in new[] { sex, af })
        {
            Assert.Equal(1.0, softmax.Sum(), 5);
            Assert.All(softmax, p => Assert.InRange(p, 0.005, 0.995));
        }

        Assert.InRange(age, -3, 3);
    }
}
