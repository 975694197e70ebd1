using BenchmarkDotNet.Attributes;
using Ecg2Af.LocalCluster;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Inference.StandIn;

namespace Ecg2Af.Ecg.Benchmarks;

/// <summary>
/// Parse + preprocess of one 10 s, 500 Hz, 12-lead record per format (Philips XML: the first 10 s of 11 stored), from the real samples in ../shared/ecg-samples
/// (NPY, EDF, HDF5 and explicit-VR DICOM are written in memory from the JS00001 record, as the tests do).
/// The baseline is one ECG through the stand-in model on ONNX Runtime's CPU provider as the worker serves it: the
/// session gets the thread layout <see cref="ThreadBudget"/> resolves for this machine's cores (by default one
/// inference loop per core, one intra-op thread each), so the baseline is what one ECG costs one inference loop, and
/// the Ratio column reads directly as "parse + preprocess as a fraction of inference" (goal: under 0.03). Parse and
/// preprocess run on one thread, as they do in a request.
/// </summary>
[MemoryDiagnoser]
public class ParsePrepareBenchmarks
{
    private IReadOnlyList<EcgFile> _files = [];
    private EcgRecording _recording = null!;
    private PreparedEcg _prepared = null!;
    private string _modelDirectory = "";
    private LoadedModel _model = null!;

    [Params("muse-xml", "hl7-aecg", "dicom", "wfdb-challenge-mat", "wfdb-16", "csv", "edf", "npy", "hdf5-ukb", "hdf5-mgb", "scp-ecg", "philips-xml", "philips-xml-1.03")]
    public string Format { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _files = Inputs.Load(Format);
        _recording = EcgReader.Read(_files);
        if (_recording.SampleRateHz != 500 || _recording.SampleCount != 5000)
        {
            throw new InvalidOperationException($"{Format} is not a 10 s, 500 Hz record.");
        }

        _prepared = EcgPreprocessor.Prepare(_recording, InputSpec.Ecg2Af);
        _modelDirectory = Directory.CreateTempSubdirectory("ecg2af-bench-").FullName;
        var version = Path.Combine(_modelDirectory, "ecg2af", "1");
        StandInModel.Write(version);
        var (runtime, error) = ThreadBudget.Resolve(
            new RuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu }, loops: 0, Environment.ProcessorCount);
        _model = LoadedModel.Load(version, runtime ?? throw new InvalidOperationException(error));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        Directory.Delete(_modelDirectory, recursive: true);
    }

    /// <summary>One ECG through the stand-in model in one inference loop of the worker's default layout: the yardstick.</summary>
    [Benchmark(Baseline = true)]
    public float[][] InferStandIn() => _model.Runner.Run(_prepared.Data, 1);

    [Benchmark]
    public EcgRecording Parse() => EcgReader.Read(_files);

    [Benchmark]
    public PreparedEcg Prepare() => EcgPreprocessor.Prepare(_recording, InputSpec.Ecg2Af);

    [Benchmark]
    public PreparedEcg ParseAndPrepare() => EcgPreprocessor.Prepare(EcgReader.Read(_files), InputSpec.Ecg2Af);
}

/// <summary>Benchmark inputs: the shared samples, read in place, and files written from them.</summary>
internal static class Inputs
{
    public static IReadOnlyList<EcgFile> Load(string format)
    {
        var js = EcgReader.Read([Sample("wfdb-challenge-mat/JS00001.hea"), Sample("wfdb-challenge-mat/JS00001.mat")]);
        return format switch
        {
            "muse-xml" => [Sample("muse-xml/muse-sinus.xml")],
            "hl7-aecg" => [Sample("hl7-aecg/Example_aECG.xml")],
            "dicom" => [Sample("dicom/Example.dcm")],
            "scp-ecg" => [Sample("scp-ecg/Example.scp")],
            // 1.04.01, UTF-16 (the largest Philips sample) and 1.03, UTF-8; both XLI.
            "philips-xml" => [Sample("philips-xml/2020-5-18_15-48-11.xml")],
            "philips-xml-1.03" => [Sample("philips-xml/129DYPRG.XML")],
            "wfdb-challenge-mat" => [Sample("wfdb-challenge-mat/JS00001.hea"), Sample("wfdb-challenge-mat/JS00001.mat")],
            "wfdb-16" => [Sample("wfdb/muse-sinus.hea"), Sample("wfdb/muse-sinus.dat")],
            "csv" => [Sample("csv/ECG_12L.csv")],
            "edf" => [new("js.edf", EdfWriter.Write([.. Leads.Standard12.Select(l => new EdfWriter.Signal($"ECG {l}", js.Leads[l]))], 500))],
            "npy" => [new("js.npy", NpyWriter.Write(js.Leads, NpyWriter.Layout.SamplesByLeadsFloat32))],
            "hdf5-ukb" => [new("js.hd5", Ml4hHdf5Writer.WriteUkb(js.Leads))],
            "hdf5-mgb" => [new("js.hd5", Ml4hHdf5Writer.WriteMgb(new Dictionary<string, IReadOnlyDictionary<string, float[]>> { ["2019-05-01T08:30:00"] = js.Leads }))],
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown benchmark format."),
        };
    }

    private static EcgFile Sample(string relative)
    {
        var path = Path.Combine(RepositoryLayout.Root, "..", "shared", "ecg-samples", relative);
        return File.Exists(path)
            ? new EcgFile(Path.GetFileName(path), File.ReadAllBytes(path))
            : throw new FileNotFoundException($"The shared ECG samples are missing (expected {path}).", path);
    }
}
