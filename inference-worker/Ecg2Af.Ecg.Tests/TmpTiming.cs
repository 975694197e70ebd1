using System.Diagnostics;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;
using Xunit.Abstractions;

namespace Ecg2Af.Ecg.Tests;

public sealed class TmpTiming(ITestOutputHelper output)
{
    [Fact]
    public void Time()
    {
        var js = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var inputs = new Dictionary<string, EcgFile[]>
        {
            ["muse"] = [SharedSamples.File("muse-xml/muse-sinus.xml")],
            ["hl7"] = [SharedSamples.File("hl7-aecg/Example_aECG.xml")],
            ["csv"] = [SharedSamples.File("csv/ECG_12L.csv")],
            ["ukb"] = [new("js.hd5", Ml4hHdf5Writer.WriteUkb(js.Leads))],
            ["mgb"] = [new("js.hd5", Ml4hHdf5Writer.WriteMgb(new Dictionary<string, IReadOnlyDictionary<string, float[]>> { ["2019-05-01T08:30:00"] = js.Leads }))],
            ["npy"] = [new("js.npy", NpyWriter.Write(js.Leads, NpyWriter.Layout.SamplesByLeadsFloat32))],
            ["philips"] = [SharedSamples.File("philips-xml/2020-5-18_15-48-11.xml")],
            ["philips103"] = [SharedSamples.File("philips-xml/129DYPRG.XML")],
            ["scp"] = [SharedSamples.File("scp-ecg/Example.scp")],
            ["dicom"] = [SharedSamples.File("dicom/Example.dcm")],
        };
        var only = Environment.GetEnvironmentVariable("TIMING_ONLY");
        foreach (var (name, files) in inputs)
        {
            if (only is not null && !only.Split(',').Contains(name)) continue;
            var rec = EcgReader.Read(files);
            for (var i = 0; i < 30; i++) EcgPreprocessor.Prepare(EcgReader.Read(files), InputSpec.Ecg2Af);
            var read = new List<double>(); var prep = new List<double>();
            for (var i = 0; i < 200; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var r = EcgReader.Read(files);
                var t1 = Stopwatch.GetTimestamp();
                EcgPreprocessor.Prepare(r, InputSpec.Ecg2Af);
                var t2 = Stopwatch.GetTimestamp();
                read.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds); prep.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            }
            read.Sort(); prep.Sort();
            output.WriteLine($"{name,-10} read p25 {read[50]:0.000} ms  prepare p25 {prep[50]:0.000} ms");
        }
    }
}
