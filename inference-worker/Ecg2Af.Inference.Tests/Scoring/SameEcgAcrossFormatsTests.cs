using Ecg2Af.Ecg;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.Inference.Tests.Keras;

namespace Ecg2Af.Inference.Tests.Scoring;

/// <summary>
/// One real ECG saved as ml4h HDF5 and as NumPy gives the same prediction as the original file, through the
/// product's own path: read, preprocess, ONNX Runtime on the stand-in, decode.
/// </summary>
public sealed class SameEcgAcrossFormatsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ecg2af-formats-").FullName;
    private readonly LoadedModel _model;

    public SameEcgAcrossFormatsTests()
    {
        var version = Path.Combine(_directory, "ecg2af", "1");
        StandInModel.Write(version);
        _model = LoadedModel.Load(version, new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
    }

    [Fact]
    public void Predict_MuseXmlSavedAsHdf5AndNpy_SameResultWithin1e5()
    {
        var xml = new EcgFile("muse-sinus.xml", File.ReadAllBytes(SharedFiles.Path("ecg-samples", "muse-xml", "muse-sinus.xml")));
        var (twelve, _) = DerivedLeads.Complete(EcgReader.Read([xml]));
        var hdf5 = new EcgFile("muse-sinus.hd5", Ml4hHdf5Writer.WriteUkb(twelve.Leads));
        var npy = new EcgFile("muse-sinus.npy", NpyWriter.Write(twelve.Leads, NpyWriter.Layout.SamplesByLeadsFloat32));

        var fromXml = Predict(xml);
        var fromHdf5 = Predict(hdf5);
        var fromNpy = Predict(npy);

        Assert.Equal("ml4h-hdf5-ukb", fromHdf5.Input.Format);
        Assert.Equal("npy", fromNpy.Input.Format);
        foreach (var other in new[] { fromHdf5, fromNpy })
        {
            var (a, b) = (fromXml.Result, other.Result);
            Assert.Equal(a.AfRisk!.Probability, b.AfRisk!.Probability, 1e-5);
            Assert.All(a.SurvivalCurve!.Zip(b.SurvivalCurve!), p => Assert.Equal(p.First.AfFreeProbability, p.Second.AfFreeProbability, 1e-5));
            Assert.Equal(a.AfInEcgProbability!.Value, b.AfInEcgProbability!.Value, 1e-5);
            Assert.Equal(a.Sex!.Female, b.Sex!.Female, 1e-5);
            // Age is in years (about 68 here): float32 holds 7 significant digits, so 1e-5 is relative for it.
            Assert.Equal(a.AgeYears!.Value, b.AgeYears!.Value, 1e-5 * Math.Max(1, Math.Abs(a.AgeYears.Value)));
        }
    }

    public void Dispose()
    {
        _model.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private PredictionResponse Predict(EcgFile file)
    {
        var input = ScoringPipeline.Prepare([file], EcgReadOptions.Default, _model.Signature);
        var outputs = _model.Runner.Run(input.Prepared.Data, 1);
        return ScoringPipeline.Complete("test", _model, input, outputs, 0, new Dictionary<string, double>());
    }
}
