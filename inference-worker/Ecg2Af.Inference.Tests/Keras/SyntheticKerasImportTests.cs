using Ecg2Af.Inference.Keras;
using Ecg2Af.Inference.Onnx;
using Ecg2Af.Inference.Reference;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.Inference.Tests.Onnx;
using PureHDF;
using Xunit.Abstractions;

namespace Ecg2Af.Inference.Tests.Keras;

/// <summary>
/// Small ml4h-template networks are written as real Keras files by the test-side <see cref="KerasFileWriter"/>, imported,
/// run by ONNX Runtime and compared with <see cref="ReferenceForward"/> on the network that was written (not the one the
/// importer rebuilt), so the comparison checks parsing, weight addressing and lowering together.
/// </summary>
public sealed class SyntheticKerasImportTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-5;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("ecg2af-keras-");

    /// <summary>
    /// The 2021 legacy graph (§4.2): residual block with two convolutions (so Add and the 1×1 projection appear), two
    /// dense-conv blocks, an even kernel width with "same" padding, Flatten after the channel-first convolutions, a Dense
    /// stack ending in "embed", the four 2021 heads, tensorflow-addons gelu.
    /// </summary>
    internal static Ml4hTemplate Legacy2021 { get; } = new()
    {
        Samples = 64,
        ConvLayers = [6, 4],
        ConvWidth = 6,
        DenseBlocks = [4, 5],
        BlockSize = 3,
        DenseLayers = [10, 8],
        MergeEmbed = false,
        Activation = ActivationKind.GeluTanh,
        Heads = Ml4hTemplate.Heads2021,
    };

    /// <summary>The 2024 block-factory graph (§4.3): encoder and merge embeds, swish, five heads; even kernel again.</summary>
    internal static Ml4hTemplate Block2024 { get; } = new()
    {
        Samples = 48,
        ConvLayers = [5],
        ConvWidth = 4,
        DenseBlocks = [4, 4, 3],
        BlockSize = 2,
        DenseLayers = [7],
        MergeEmbed = true,
        Activation = ActivationKind.Swish,
        Heads = Ml4hTemplate.Heads2024,
    };

    [Fact]
    public void Import_Legacy2021H5FlatFunctional_MatchesReferenceAndPicksThe2021Heads()
    {
        var network = Ml4hTemplateBuilder.Build(Legacy2021, 3);
        var path = Write("q21_like.h5", network, SyntheticFormat.Keras2H5);

        var result = KerasImporter.Import(path, new KerasImportOptions { Name = "q21-like" });

        Assert.Equal(KerasFormat.LegacyH5, result.Format);
        Assert.Equal(KnownDecoders.Ecg2Af2021, result.Signature.Provenance.Decoder);
        Assert.Equal(Ecg2AfHeads.Outputs2021.Select(h => h.Name), result.Signature.Outputs.Select(h => h.Name));
        Assert.Contains(network.Layers, l => l is Conv1DLayer { KernelSize: 6, Padding: Padding.Same });
        Assert.Contains(network.Layers, l => l is AddLayer);
        AssertMatchesReference(network, result);
    }

    [Fact]
    public void Import_Keras3ZipWithNestedHeads_MatchesReferenceAndPicksThe2024Heads()
    {
        var network = Ml4hTemplateBuilder.Build(Block2024, 4);
        var path = Write("q24_like.keras", network, SyntheticFormat.Keras3Zip, nestHeads: true);

        var result = KerasImporter.Import(path, new KerasImportOptions { Name = "q24-like" });

        Assert.Equal(KerasFormat.KerasV3, result.Format);
        Assert.Equal("3.8.0", result.KerasVersion);
        Assert.Equal(KnownDecoders.Ecg2Af2024, result.Signature.Provenance.Decoder);
        var heads = result.Signature.Outputs;
        Assert.Equal(Ml4hTemplate.Heads2024.Select(h => h.Name), heads.Select(h => h.Name));
        Assert.All(heads.Where(h => h.Kind == HeadKind.SurvivalCurve), h => Assert.Equal(146.1, h.DaysPerBin));
        Assert.Contains("10-year", result.Signature.Provenance.Notice, StringComparison.Ordinal);
        AssertMatchesReference(network, result);
    }

    [Fact]
    public void Import_Legacy2024H5WithNestedHeads_MatchesReference()
    {
        // The same nested decoders written by the legacy HDF5 saver: each head's group holds its inner Dense's weights.
        var network = Ml4hTemplateBuilder.Build(Block2024, 5);
        var path = Write("q24_like.h5", network, SyntheticFormat.Keras2H5, nestHeads: true);

        var result = KerasImporter.Import(path, new KerasImportOptions { Name = "q24-like-h5" });

        AssertMatchesReference(network, result);
    }

    [Theory]
    [InlineData(SyntheticFormat.Keras2H5)]
    [InlineData(SyntheticFormat.Keras3Zip)]
    public void Import_SequentialWithOtherLayerTypes_MatchesReference(SyntheticFormat format)
    {
        var network = OtherLayers();
        var path = Write($"sequential_{format}", network, format, sequential: true);

        var result = KerasImporter.Import(path, new KerasImportOptions
        {
            Name = "seq", Labels = ["a", "b", "c"], Leads = ["I", "II"], SampleRateHz = 250,
        });

        Assert.Equal(KnownDecoders.Softmax, result.Signature.Provenance.Decoder);
        Assert.Equal(["I", "II"], result.Signature.Input.Leads);
        // Keras 2 names a Sequential's implicit input after its first layer; Keras 3 writes the InputLayer.
        AssertMatchesReference(network, result, format == SyntheticFormat.Keras2H5 ? "conv_causal_input" : "input");
    }

    [Fact]
    public void Import_UnsupportedLayer_FailsNamingTheLayerAndClass()
    {
        var path = Path.Combine(_directory.FullName, "lstm.h5");
        const string config = """
            {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
              {"class_name": "LSTM", "config": {"name": "lstm_7", "batch_input_shape": [null, 100, 12], "units": 4}},
              {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "softmax"}}]}}
            """;
        new H5File
        {
            ["model_weights"] = new H5Group { Attributes = new() { ["layer_names"] = new[] { "lstm_7", "dense" } } },
            Attributes = new() { ["keras_version"] = "2.4.0", ["model_config"] = config },
        }.Write(path);

        var error = Assert.Throws<KerasImportException>(() => KerasImporter.Import(path, new KerasImportOptions { Name = "lstm" }));

        Assert.Contains("'lstm_7'", error.Message, StringComparison.Ordinal);
        Assert.Contains("LSTM", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_WeightNamesSplitIntoChunks_ReadsAllChunks()
    {
        // Keras splits attributes over 64 KiB into weight_names0, weight_names1, …; one name per chunk here.
        var kernel = new float[] { 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12 };
        var bias = new float[] { 0.5f, -0.25f };
        var path = Path.Combine(_directory.FullName, "chunked.h5");
        const string config = """
            {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
              {"class_name": "Flatten", "config": {"name": "flatten", "batch_input_shape": [null, 3, 2], "data_format": "channels_last"}},
              {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "sigmoid", "use_bias": true}}]}}
            """;
        new H5File
        {
            ["model_weights"] = new H5Group
            {
                ["flatten"] = new H5Group { Attributes = new() { ["weight_names"] = Array.Empty<double>() } },
                ["dense"] = new H5Group
                {
                    ["dense"] = new H5Group
                    {
                        ["kernel:0"] = new H5Dataset(kernel, fileDims: [6, 2]),
                        ["bias:0"] = new H5Dataset(bias, fileDims: [2]),
                    },
                    Attributes = new() { ["weight_names0"] = new[] { "dense/kernel:0" }, ["weight_names1"] = new[] { "dense/bias:0" } },
                },
                Attributes = new() { ["layer_names"] = new[] { "flatten", "dense" } },
            },
            Attributes = new() { ["keras_version"] = "2.4.0", ["model_config"] = config },
        }.Write(path);
        var expected = new Network
        {
            Input = new NetworkInput("flatten_input", 3, 2),
            Layers =
            [
                new FlattenLayer { Name = "flatten", Inputs = ["flatten_input"] },
                new DenseLayer { Name = "dense", Inputs = ["flatten"], Units = 2, Kernel = kernel, Bias = bias, Activation = new Activation(ActivationKind.Sigmoid) },
            ],
            Outputs = [new NetworkOutput("dense", "dense")],
        };

        var result = KerasImporter.Import(path, new KerasImportOptions { Name = "chunked", Labels = ["x", "y"], Leads = ["I", "II"] });

        AssertMatchesReference(expected, result);
    }

    [Fact]
    public void Import_GitLfsPointer_FailsSayingToPullTheFile()
    {
        var path = Path.Combine(_directory.FullName, "ecg2af_quintuplet_v2024_01_13.keras");
        File.WriteAllText(path, "version https://git-lfs.github.com/spec/v1\noid sha256:de38e009be5613ebb31ee1969bc1cab648d0f11c865e8afbd60e4bb7784f5627\nsize 43797442\n");

        var error = Assert.Throws<KerasImportException>(() => KerasImporter.Import(path, new KerasImportOptions { Name = "q24" }));

        Assert.Contains("git lfs pull", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImportTo_ModelsRoot_WritesVersionFolderThatInspectReadsBack()
    {
        var network = Ml4hTemplateBuilder.Build(Legacy2021, 8);
        var path = Write("q21_for_disk.h5", network, SyntheticFormat.Keras2H5);
        var root = Path.Combine(_directory.FullName, "models");

        var result = KerasImporter.ImportTo(path, root, new KerasImportOptions { Name = "imported", Version = "7" });

        var folder = Path.Combine(root, "imported", "7");
        var signature = ModelSignature.Load(Path.Combine(folder, "model.json"));
        var info = OnnxModelInfo.Read(Path.Combine(folder, "model.onnx"));
        Assert.Equal(("imported", "7", Provenance.Imported, "q21_for_disk.h5"),
            (signature.Name, signature.Version, signature.Provenance.Weights, signature.Provenance.Source));
        Assert.Equal(ModelFiles.Sha256(path), signature.Provenance.SourceSha256);
        Assert.Equal(ModelCost.Of(network).Parameters, info.Parameters);
        Assert.Equal(ModelCost.Of(network).MacsPerInput, info.MacsPerInput);
        Assert.Equal(ModelCost.Of(network).Parameters, signature.Provenance.Parameters);
        Assert.Equal(result.Signature.Input.Name, Assert.Single(info.Inputs).Name);
        Assert.Equal(["N", "64", "12"], info.Inputs[0].Dims);
    }

    [Theory]
    [InlineData("Conv1D", "conv1d")]
    [InlineData("MaxPooling1D", "max_pooling1d")]
    [InlineData("GlobalAveragePooling1D", "global_average_pooling1d")]
    [InlineData("BatchNormalization", "batch_normalization")]
    [InlineData("InputLayer", "input_layer")]
    [InlineData("LeakyReLU", "leaky_re_lu")]
    [InlineData("Functional", "functional")]
    public void ToSnakeCase_KerasClassNames_GiveKerasWeightGroupNames(string className, string expected)
    {
        Assert.Equal(expected, KerasNaming.ToSnakeCase(className));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>Conv causal+dilated, BatchNorm, LeakyReLU, Dropout, strided valid conv, gelu, LayerNorm, average pool
    /// "same", ELU(0.5), even-kernel "same" conv, global average pool and a softmax Dense.</summary>
    private static Network OtherLayers()
    {
        var random = new Random(11);
        float[] Values(int n, double scale = 0.5) => Enumerable.Range(0, n).Select(_ => (float)(((2 * random.NextDouble()) - 1) * scale)).ToArray();
        float[] Positive(int n) => Enumerable.Range(0, n).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
        return new Network
        {
            Input = new NetworkInput("input", 41, 2),
            Layers =
            [
                new Conv1DLayer
                {
                    Name = "conv_causal", Inputs = ["input"], Filters = 5, KernelSize = 3, Dilation = 2, Padding = Padding.Causal,
                    Kernel = Values(3 * 2 * 5), Bias = Values(5), Activation = new Activation(ActivationKind.Relu),
                },
                new BatchNormLayer
                {
                    Name = "bn", Inputs = ["conv_causal"], Gamma = Positive(5), Beta = Values(5), MovingMean = Values(5),
                    MovingVariance = Positive(5), Epsilon = 1e-3,
                },
                new ActivationLayer { Name = "leaky", Inputs = ["bn"], Activation = new Activation(ActivationKind.LeakyRelu, 0.2) },
                new IdentityLayer { Name = "dropout", Inputs = ["leaky"] },
                new Conv1DLayer
                {
                    Name = "conv_strided", Inputs = ["dropout"], Filters = 4, KernelSize = 5, Strides = 2, Padding = Padding.Valid,
                    Kernel = Values(5 * 5 * 4), Bias = Values(4),
                },
                new ActivationLayer { Name = "gelu", Inputs = ["conv_strided"], Activation = new Activation(ActivationKind.GeluErf) },
                new LayerNormLayer { Name = "ln", Inputs = ["gelu"], Gamma = Positive(4), Beta = Values(4), Epsilon = 1e-3 },
                new Pool1DLayer { Name = "avg", Inputs = ["ln"], Kind = PoolKind.Average, PoolSize = 3, Strides = 2, Padding = Padding.Same },
                new ActivationLayer { Name = "elu", Inputs = ["avg"], Activation = new Activation(ActivationKind.Elu, 0.5) },
                new Conv1DLayer
                {
                    Name = "conv_even", Inputs = ["elu"], Filters = 3, KernelSize = 4, Padding = Padding.Same,
                    Kernel = Values(4 * 4 * 3), Bias = null, Activation = new Activation(ActivationKind.Tanh),
                },
                new GlobalPool1DLayer { Name = "gap", Inputs = ["conv_even"], Kind = PoolKind.Average },
                new DenseLayer
                {
                    Name = "probabilities", Inputs = ["gap"], Units = 3, Kernel = Values(3 * 3, 2), Bias = Values(3),
                    Activation = new Activation(ActivationKind.Softmax),
                },
            ],
            Outputs = [new NetworkOutput("probabilities", "probabilities")],
        };
    }

    private string Write(string fileName, Network network, SyntheticFormat format, bool nestHeads = false, bool sequential = false)
    {
        var path = Path.Combine(_directory.FullName, fileName);
        KerasFileWriter.Write(path, network, format, nestHeads, sequential);
        return path;
    }

    /// <summary>Two inputs in one batch: ORT on the imported ONNX vs the reference pass on the network that was written.</summary>
    private void AssertMatchesReference(Network written, KerasImportResult result, string? inputName = null)
    {
        var input = written.Input;
        var random = new Random(input.Samples);
        var batch = Enumerable.Range(0, 2 * input.Samples * input.Channels).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();

        using var session = new OrtTestSession(result.Onnx);
        var outputs = session.Run(batch, 2, input.Samples, input.Channels);

        Assert.Equal(inputName ?? input.Name, session.Session.InputNames.Single());
        Assert.Equal(inputName ?? input.Name, result.Signature.Input.Name);
        Assert.Equal(written.Outputs.Select(o => o.Name), outputs.Select(o => o.Name));
        var worst = 0.0;
        for (var b = 0; b < 2; b++)
        {
            var sample = batch.AsSpan(b * input.Samples * input.Channels, input.Samples * input.Channels).ToArray();
            var reference = ReferenceForward.Run(written, sample);
            foreach (var (name, values) in outputs)
            {
                var expected = reference[name];
                for (var i = 0; i < expected.Length; i++)
                {
                    var diff = Math.Abs(expected[i] - values[(b * expected.Length) + i]) / Math.Max(1, Math.Abs(expected[i]));
                    worst = Math.Max(worst, diff);
                    Assert.True(diff <= Tolerance, $"{name}[{b},{i}]: reference {expected[i]}, ORT {values[(b * expected.Length) + i]}");
                }
            }
        }

        output.WriteLine($"{result.Signature.Name}: {result.Format}, {ModelCost.Of(written).Parameters} parameters, max relative |ORT − reference| {worst:E2}");
    }
}
