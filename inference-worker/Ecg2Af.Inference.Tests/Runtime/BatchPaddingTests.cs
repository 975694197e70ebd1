using Ecg2Af.Ecg;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.Inference.Tests.Keras;

namespace Ecg2Af.Inference.Tests.Runtime;

/// <summary>
/// Allowed batch sizes: a partial batch is padded with zero rows up to the next allowed size, and the answers are
/// those of the unpadded batch, row for row, with nothing of the padding written anywhere the caller sees.
/// </summary>
public sealed class BatchPaddingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ecg2af-padding-").FullName;
    private readonly string _onnx;
    private readonly ModelSignature _signature;

    public BatchPaddingTests()
    {
        var version = Path.Combine(_directory, "ecg2af", "1");
        StandInModel.Write(version);
        _onnx = Path.Combine(version, ModelFiles.Onnx);
        _signature = ModelSignature.Load(Path.Combine(version, ModelFiles.Signature));
    }

    [Fact]
    public void Run_PartialBatchOfRealEcgs_PaddedOutputsEqualUnpaddedAndNothingLeaks()
    {
        string[][] files =
        [
            ["muse-xml", "muse-sinus.xml"],
            ["muse-xml", "braveheart_example1.xml"],
            ["hl7-aecg", "Example_aECG.xml"],
        ];
        var inputs = files.Select(f => Prepare(SharedFiles.Path(["ecg-samples", .. f]))).ToArray();
        var length = inputs[0].Length;
        var batch = new float[inputs.Length * length];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i].CopyTo(batch, i * length);
        }

        var cpu = new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 };
        using var padded = OnnxModelRunner.Load(_onnx, _signature, cpu.WithBatching(new BatchShapes(4, [1, 4])));
        using var unpadded = OnnxModelRunner.Load(_onnx, _signature, cpu);
        Assert.Equal([1, 4], padded.PaddedBatchSizes);
        Assert.Equal([1, 4], padded.WarmedUpBatchSizes);
        Assert.Null(unpadded.PaddedBatchSizes);

        // The caller's buffers are longer than three rows: whatever lies past them must stay untouched.
        var sizes = _signature.Outputs.Select(o => o.Size).ToArray();
        var outputs = sizes.Select(s => Enumerable.Repeat(float.NaN, 4 * s).ToArray()).ToArray();
        padded.Run(batch, inputs.Length, outputs);

        for (var i = 0; i < inputs.Length; i++)
        {
            var alone = unpadded.Run(inputs[i], 1);
            for (var h = 0; h < sizes.Length; h++)
            {
                var row = outputs[h].AsSpan(i * sizes[h], sizes[h]).ToArray();
                Assert.All(row.Zip(alone[h]), p => Assert.Equal(p.Second, p.First, 1e-5f));
            }
        }

        for (var h = 0; h < sizes.Length; h++)
        {
            Assert.All(outputs[h].AsSpan(inputs.Length * sizes[h]).ToArray(), v => Assert.True(float.IsNaN(v), "a padded row leaked into the caller's buffer"));
        }

        // A later full batch of the same size is not disturbed by the earlier padding either.
        var again = padded.Run(batch, inputs.Length);
        for (var h = 0; h < sizes.Length; h++)
        {
            Assert.Equal(outputs[h].AsSpan(0, inputs.Length * sizes[h]).ToArray(), again[h]);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private float[] Prepare(string path)
    {
        var file = new EcgFile(Path.GetFileName(path), File.ReadAllBytes(path));
        return ScoringPipeline.Prepare([file], EcgReadOptions.Default, _signature).Prepared.Data;
    }
}

public sealed class BatchShapesTests
{
    [Fact]
    public void For_NoList_CudaGetsPowersOfTwoAndTheMaximumCpuRunsUnpadded()
    {
        var shapes = new BatchShapes(24);

        Assert.Equal([1, 2, 4, 8, 16, 24], shapes.For(OnnxModelRunner.Cuda)!);
        Assert.Null(shapes.For(OnnxModelRunner.Cpu));
        Assert.Null(BatchShapes.Unpadded.For(OnnxModelRunner.Cuda));
    }

    [Fact]
    public void For_ConfiguredList_AppliesToEveryProvider()
    {
        var shapes = new BatchShapes(32, [1, 8, 32]);

        Assert.Equal([1, 8, 32], shapes.For(OnnxModelRunner.Cuda)!);
        Assert.Equal([1, 8, 32], shapes.For(OnnxModelRunner.Cpu)!);
        Assert.Equal(8, BatchShapes.PadTo([1, 8, 32], 2));
        Assert.Equal(32, BatchShapes.PadTo([1, 8, 32], 9));
        Assert.Equal(1, BatchShapes.PadTo([1, 8, 32], 1));
        Assert.Equal(5, BatchShapes.PadTo(null, 5));
    }

    [Theory]
    [InlineData(new[] { 1, 4, 8 }, 16, "must equal MaxBatchSize")]
    [InlineData(new[] { 4, 2, 16 }, 16, "increase strictly")]
    [InlineData(new[] { 0, 16 }, 16, "at least 1")]
    public void Validate_BadList_SaysWhy(int[] allowed, int max, string expected)
    {
        Assert.Contains(expected, BatchShapes.Validate(max, allowed), StringComparison.Ordinal);
        var options = new Ecg2Af.Inference.Serving.SchedulerOptions { MaxBatchSize = max, AllowedBatchSizes = allowed };
        Assert.Contains(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)),
            r => r.ErrorMessage!.Contains(expected, StringComparison.Ordinal));
    }
}
