using System.Text.Json;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Keras;
using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.Reference;
using Ecg2Af.Inference.Tests.Onnx;
using Xunit.Abstractions;

namespace Ecg2Af.Inference.Tests.Keras;

/// <summary>
/// The two real Keras files in shared/keras-fixtures import and, run by ONNX Runtime, reproduce the reference outputs
/// listed in its MANIFEST.md (computed there by an independent float64 numpy implementation) within 1e-4.
/// </summary>
public sealed class KerasFixtureTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    /// <summary>The signature the CinC 2020 model needs to be served beside ECG2AF (also the documented CLI flags).</summary>
    internal static KerasImportOptions EcgCnnxOptions { get; } = new()
    {
        Name = "ecgcnnx",
        Version = "1",
        Decoder = KnownDecoders.Multilabel,
        Labels = ["AF", "I-AVB", "LBBB", "Normal", "PAC", "PVC", "RBBB", "STD", "STE"],
        SampleRateHz = 500,
        Samples = 30000,
        LengthPolicy = LengthPolicy.Pad,
        Normalization = NormalizationKind.None,
        Units = "mV",
    };

    [Fact]
    public void Import_EcgCnnxKeras2H5_ReproducesManifestOutputsForJs00001AndZeros()
    {
        var result = KerasImporter.Import(SharedFiles.Path("keras-fixtures", "ECGCNNX_V4.h5"), EcgCnnxOptions);

        Assert.Equal(KerasFormat.LegacyH5, result.Format);
        Assert.Equal("2.2.4-tf", result.KerasVersion);
        var record = ChallengeMatRecord.Read(SharedFiles.Path("ecg-samples", "wfdb-challenge-mat", "JS00001.hea"));
        Assert.Equal(Leads.Standard12, record.Leads);
        var padded = new float[30000 * 12];
        record.Millivolts.CopyTo(padded, 0);

        using var session = new OrtTestSession(result.Onnx);
        var outputs = session.Run([.. padded, .. new float[30000 * 12]], 2, 30000, 12);

        var (name, values) = Assert.Single(outputs);
        Assert.Equal("dense", name);
        // MANIFEST.md, "ECGCNNX_V4, input = JS00001.mat (counts/1000 -> mV, zero-padded to 30000)" and "input = zeros".
        AssertClose([0.43374, 0.00215, 0.1157, 0.0002, 0.01457, 0.06494, 0.49755, 0.00114, 0.01591], values[..9], "JS00001");
        AssertClose([0.01922, 0.19875, 0.00769, 0.19273, 0.15375, 0.10844, 0.00434, 0.19821, 0.05283], values[9..], "zeros");
    }

    [Fact]
    public void Import_EcgCnnxWithCliFlags_GivesTheServableSignature()
    {
        var result = KerasImporter.Import(SharedFiles.Path("keras-fixtures", "ECGCNNX_V4.h5"), EcgCnnxOptions);

        var signature = result.Signature;
        Assert.Equal("ecgcnnx", signature.Name);
        Assert.Equal("conv1d_input", signature.Input.Name);
        Assert.Equal(30000, signature.Input.Samples);
        Assert.Equal(500, signature.Input.SampleRateHz);
        Assert.Equal(Leads.Standard12, signature.Input.Leads);
        Assert.Equal(LengthPolicy.Pad, signature.Input.LengthPolicy);
        Assert.Equal(NormalizationKind.None, signature.Input.Normalization);
        Assert.Equal("mV", signature.Input.Units);
        var head = Assert.Single(signature.Outputs);
        Assert.Equal(("dense", 9, HeadKind.Multilabel, HeadRole.Labels), (head.Name, head.Size, head.Kind, head.Role));
        Assert.Equal(EcgCnnxOptions.Labels, head.Labels);
        Assert.Equal(Provenance.Imported, signature.Provenance.Weights);
        Assert.Equal("ECGCNNX_V4.h5", signature.Provenance.Source);
        // MANIFEST.md's sha256 of the file.
        Assert.Equal("b290ddd7d18d19efab87acb8b6ec6f760df9a99e6c120a5b5639e3caa33a031d", signature.Provenance.SourceSha256);
        // 8 convs 11×C×32 + 1 conv 11×32×1, 9 BatchNorms (4 per channel), Dense 59×9: Keras' count_params.
        long expected = (11 * 12 * 32) + 32 + (7 * ((11 * 32 * 32) + 32)) + (11 * 32) + 1 + (4 * ((8 * 32) + 1)) + (59 * 9) + 9;
        Assert.Equal(expected, signature.Provenance.Parameters);
    }

    [Fact]
    public void Import_MitBihKeras3H5_ReproducesManifestOutputsForSampleAndZeros()
    {
        var options = new KerasImportOptions
        {
            Name = "mitbih",
            Decoder = KerasImporter.Auto,
            Labels = ["N", "S", "V", "F", "Q"],
            Leads = ["II"],
            SampleRateHz = 125,
            Normalization = NormalizationKind.None,
            LengthPolicy = LengthPolicy.Pad,
        };

        var result = KerasImporter.Import(SharedFiles.Path("keras-fixtures", "baseline_cnn_mitbih_final_model.h5"), options);

        Assert.Equal("3.8.0", result.KerasVersion);
        Assert.Equal(KnownDecoders.Softmax, result.Signature.Provenance.Decoder);
        Assert.Equal(HeadKind.Categorical, Assert.Single(result.Signature.Outputs).Kind);
        using var json = JsonDocument.Parse(File.ReadAllText(SharedFiles.Path("keras-fixtures", "baseline_cnn_mitbih_test_sample.json")));
        var sample = json.RootElement.GetProperty("sample").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        Assert.Equal(187, sample.Length);

        using var session = new OrtTestSession(result.Onnx);
        var outputs = session.Run([.. sample, .. new float[187]], 2, 187, 1);

        var (name, values) = Assert.Single(outputs);
        Assert.Equal("dense_3_mitbih", name);
        Assert.Equal("input_layer_24", result.Signature.Input.Name);
        // MANIFEST.md: the sample → argmax 2 (ventricular ectopic) at 0.999999; zeros → the row below.
        AssertClose([0, 0, 0.999999, 0, 0], values[..5], "sample");
        AssertClose([0.063535, 0.887554, 0.008315, 0.032205, 0.008391], values[5..], "zeros");
    }

    [Fact]
    public void Import_RealFixtures_ReferencePassAgreesWithOnnxRuntime()
    {
        var result = KerasImporter.Import(
            SharedFiles.Path("keras-fixtures", "baseline_cnn_mitbih_final_model.h5"),
            new KerasImportOptions { Name = "mitbih", Labels = ["N", "S", "V", "F", "Q"], Leads = ["II"] });
        var input = Enumerable.Range(0, 187).Select(i => (float)Math.Abs(Math.Sin(i / 9.0))).ToArray();

        using var session = new OrtTestSession(result.Onnx);
        var ort = session.Run(input, 1, 187, 1)[0].Values;
        var reference = ReferenceForward.Run(result.Network, input)["dense_3_mitbih"];

        AssertClose(reference, ort, "reference");
    }

    private void AssertClose(double[] expected, float[] actual, string label)
    {
        output.WriteLine($"{label}: expected [{string.Join(", ", expected)}]");
        output.WriteLine($"{label}: ORT      [{string.Join(", ", actual.Select(v => v.ToString("F6", System.Globalization.CultureInfo.InvariantCulture)))}]");
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        output.WriteLine($"{label}: max |diff| = {worst:E2}");
        Assert.True(worst <= Tolerance, $"{label}: max |diff| {worst:E2} > {Tolerance}");
    }
}
