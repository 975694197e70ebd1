using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>Lead identities in every stored 12-lead sample, and agreement between copies of one ECG in different formats.</summary>
public sealed class CrossFormatTests
{
    public static TheoryData<string> TwelveLeadSamples =>
    [
        "wfdb/muse-af.hea", "wfdb/muse-sinus.hea", "wfdb/00001_lr.hea", "wfdb-challenge-mat/JS00001.hea",
        "hl7-aecg/Example_aECG.xml", "dicom/Example.dcm", "csv/ECG_12L.csv", "edf/0000050.ECG.edf", "scp-ecg/Example.scp",
    ];

    [Theory]
    [MemberData(nameof(TwelveLeadSamples))]
    public void Read_TwelveLeadSample_LimbLeadsObeyEinthovenAndGoldberger(string sample)
    {
        var recording = sample.EndsWith(".hea", StringComparison.Ordinal)
            ? EcgReader.Read(Directory(sample))
            : SharedSamples.Read(sample);
        var step = recording.QuantizationStepMv!.Value;
        var l = recording.Leads;
        Func<float[], double[]> counts = v => v.Select(x => x / step).ToArray();
        if (recording.Format == "edf")
        {
            // EDF maps digital d to (d - dmin) × gain + pmin: an offset that enters each lead once, so the identities
            // hold for the digital values (the manifest's check), not exactly for the physical ones.
            counts = v => v.Select(x => Math.Round(((x + 1000) / step) - 32768)).ToArray();
        }

        var (i, ii) = (counts(l["I"]), counts(l["II"]));
        var iii = MaxResidual(counts(l["III"]), i, ii, (a, b) => b - a);
        var avr = MaxResidual(counts(l["aVR"]), i, ii, (a, b) => -(a + b) / 2);

        Assert.InRange(iii, 0, 1.001); // float32 mV values carry ~1e-4 of a count
        // The Chapman-Shaoxing export behind JS00001 rounds its augmented leads separately: aVR is off by up to
        // 3 counts (3 µV), as numpy shows on the raw .mat too. Every other file holds within one count.
        Assert.InRange(avr, 0, (sample.Contains("JS00001", StringComparison.Ordinal) ? 3 : 1) + 0.001);
        // The Contec EDF's chest leads are flat: scored only when the request allows it.
        var options = new EcgReadOptions { AllowFlatLeads = recording.Format == "edf" };
        Assert.DoesNotContain(EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af, options).QualityFlags, f => f.StartsWith("lead_residual", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_Hl7AndDicomCopies_AgreeSampleForSample()
    {
        var hl7 = SharedSamples.Read("hl7-aecg/Example_aECG.xml");
        var dicom = SharedSamples.Read("dicom/Example.dcm");

        Assert.Equal(hl7.SampleRateHz, dicom.SampleRateHz);
        Assert.Equal(Leads.Standard12.Order(), hl7.Leads.Keys.Order());
        Assert.Equal(Leads.Standard12.Order(), dicom.Leads.Keys.Order());
        foreach (var lead in Leads.Standard12)
        {
            Assert.Equal(hl7.Leads[lead], dicom.Leads[lead]);
        }

        Assert.Equal(
            EcgPreprocessor.Prepare(hl7, InputSpec.Ecg2Af).Data,
            EcgPreprocessor.Prepare(dicom, InputSpec.Ecg2Af).Data);
    }

    [Fact]
    public void Read_MuseXmlAndEgmWfdbCopies_AgreeOnceTheWfdbGainIsCorrected()
    {
        // EGM wrote round(count × 4.88) µV but declared 200 adu/mV instead of 1000: the WFDB copy reads 5× too large.
        var xml = Recordings.Twelve(SharedSamples.Read("muse-xml/muse-sinus.xml"));
        var wfdb = EcgReader.Read(Directory("wfdb/muse-sinus.hea"));

        foreach (var lead in (string[])["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"])
        {
            var corrected = wfdb.Leads[lead].Select(v => v / 5).ToArray();
            Assert.InRange(Recordings.MaxAbsDifference(xml[lead], corrected), 0, 0.0005 + 1e-6);
        }

        // EGM derived the limb leads itself from rounded values.
        foreach (var lead in Leads.Derivable)
        {
            var corrected = wfdb.Leads[lead].Select(v => v / 5).ToArray();
            Assert.InRange(Recordings.MaxAbsDifference(xml[lead], corrected), 0, 0.002);
        }

        // The lying header is caught, the XML is not flagged, and z-scoring makes both inputs nearly equal.
        var fromWfdb = EcgPreprocessor.Prepare(wfdb, InputSpec.Ecg2Af);
        var fromXml = EcgPreprocessor.Prepare(SharedSamples.Read("muse-xml/muse-sinus.xml"), InputSpec.Ecg2Af);
        Assert.Contains(fromWfdb.QualityFlags, f => f.StartsWith("amplitude_high", StringComparison.Ordinal));
        Assert.DoesNotContain(fromXml.QualityFlags, f => f.StartsWith("amplitude", StringComparison.Ordinal));
        Assert.InRange(Recordings.MaxAbsDifference(fromXml.Data, fromWfdb.Data), 0, 0.05);
    }

    [Fact]
    public void Read_EdfAndCsvCopiesOfContecRecording_AgreeWithinOneStep()
    {
        var edf = SharedSamples.Read("edf/0000050.ECG.edf");
        // The CSV has no header, raw counts and no rate: the request supplies all three (±1000 mV over ±32767 counts).
        var csv = SharedSamples.Read(new EcgReadOptions
        {
            LeadOrder = Leads.Standard12,
            SampleRateHz = 800,
            CountsPerMillivolt = 65535 / 2000.0,
        }, "csv/0000050.ECG.csv");

        Assert.Equal(edf.SampleCount, csv.SampleCount);
        foreach (var lead in (string[])["I", "II", "III", "aVR", "aVL", "aVF"])
        {
            Assert.InRange(Recordings.MaxAbsDifference(edf.Leads[lead], csv.Leads[lead]), 0, edf.QuantizationStepMv!.Value);
        }

        // The CSV's V columns are empty (missing leads); the EDF stores them as zeros (flat leads).
        Assert.DoesNotContain("V1", csv.Leads.Keys);
        Assert.Equal(edf.Leads["V1"].Min(), edf.Leads["V1"].Max());
    }

    private static List<EcgFile> Directory(string header)
    {
        var stem = header[..^4];
        var data = System.IO.File.Exists(SharedSamples.PathOf(header)[..^4] + ".mat") ? ".mat" : ".dat";
        return [.. SharedSamples.Wfdb(stem, data)];
    }

    private static double MaxResidual(double[] stored, double[] i, double[] ii, Func<double, double, double> formula)
    {
        double worst = 0;
        for (var t = 0; t < stored.Length; t++)
        {
            worst = Math.Max(worst, Math.Abs(stored[t] - formula(i[t], ii[t])));
        }

        return worst;
    }
}
