using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>
/// Every real sample decodes to the check values in ../shared/ecg-samples/MANIFEST.md (decoded there with an
/// independent Python reader), within one quantisation step of the format.
/// </summary>
public sealed class SampleCheckValueTests
{
    /// <summary>One manifest line: files, expected count, rate, the format's step, and checked values of two leads.</summary>
    private sealed record Check(
        string[] Files, string Format, int Samples, double Rate, double Step,
        string LeadA, double[] FirstA, string LeadB, double[] FirstB, double? MinB = null, double? MaxB = null);

    private static readonly Check[] Checks =
    [
        new(["wfdb/muse-af.hea", "wfdb/muse-af.dat"], "wfdb", 5000, 500, 1 / 200.0,
            "I", [-0.2200, -0.2200, -0.2200], "II", [-0.2450, -0.2450, -0.2450], -1.3900, 3.7350),
        new(["wfdb/muse-sinus.hea", "wfdb/muse-sinus.dat"], "wfdb", 5000, 500, 1 / 200.0,
            "I", [-0.0500, -0.0250, -0.0250], "II", [0.0250, 0.0250, 0.0250], -1.7550, 2.8800),
        new(["wfdb/00001_lr.hea", "wfdb/00001_lr.dat"], "wfdb", 1000, 100, 1 / 1000.0,
            "I", [-0.1190, -0.1160, -0.1200], "II", [-0.0550, -0.0510, -0.0440], -0.1400, 0.4350),
        new(["wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat"], "wfdb", 5000, 500, 1 / 1000.0,
            "I", [-0.2540, -0.2540, -0.2540], "II", [0.2640, 0.2640, 0.2640], -0.3610, 0.5370),
        // MIT-BIH 100, format 212: MLII is read as II (with a warning).
        new(["wfdb/100.hea", "wfdb/100.dat"], "wfdb", 650000, 360, 1 / 200.0,
            "II", [-0.1450, -0.1450, -0.1450], "V5", [-0.0650, -0.0650, -0.0650]),
        new(["muse-xml/muse-sinus.xml"], "ge-muse-xml", 5000, 500, 0.00488,
            "I", [-0.0098, -0.0049, -0.0049], "II", [0.0049, 0.0049, 0.0049], -0.3514, 0.5758),
        new(["muse-xml/braveheart_example1.xml"], "ge-muse-xml", 5000, 500, 0.00488,
            "I", [-0.0976, -0.0976, -0.0976], "II", [-0.1074, -0.1074, -0.1074], -0.3514, 1.2688),
        new(["hl7-aecg/Example_aECG.xml"], "hl7-aecg", 5000, 500, 0.0025,
            "I", [-0.0050, -0.0050, -0.0050], "II", [-0.0175, -0.0175, -0.0175], -0.6675, 0.3350),
        new(["dicom/Example.dcm"], "dicom-ecg", 5000, 500, 0.0025,
            "I", [-0.0050, -0.0050, -0.0050], "II", [-0.0175, -0.0175, -0.0175], -0.6675, 0.3350),
        new(["edf/0000050.ECG.edf"], "edf", 37855, 800, 2000 / 65535.0,
            "I", [-0.5951, -0.9003, -0.9918], "I", [-0.5951, -0.9003, -0.9918]),
        new(["csv/ECG_12L.csv"], "csv", 5000, 500, 1 / 2048.0,
            "I", [0.0244, 0.0195, 0.0146], "II", [-0.0488, -0.0488, -0.0488], -0.1904, 1.2202),
    ];

    public static TheoryData<string> Samples => [.. Checks.Select(c => c.Files[0])];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Read_SharedSample_MatchesManifestCheckValues(string sample)
    {
        var check = Checks.Single(c => c.Files[0] == sample);
        var recording = SharedSamples.Read(check.Files);

        Assert.Equal(check.Format, recording.Format);
        Assert.Equal(check.Samples, recording.SampleCount);
        Assert.Equal(check.Rate, recording.SampleRateHz, 6);
        Assert.NotNull(recording.QuantizationStepMv);
        Assert.Equal(check.Step, recording.QuantizationStepMv!.Value, 9);
        var tolerance = check.Step + 1e-6;
        AssertClose(check.FirstA, recording.Leads[check.LeadA].AsSpan(0, 3).ToArray(), tolerance);
        AssertClose(check.FirstB, recording.Leads[check.LeadB].AsSpan(0, 3).ToArray(), tolerance);
        if (check.MinB is { } min && check.MaxB is { } max)
        {
            Assert.InRange(recording.Leads[check.LeadB].Min(), min - tolerance, min + tolerance);
            Assert.InRange(recording.Leads[check.LeadB].Max(), max - tolerance, max + tolerance);
        }
    }

    [Fact]
    public void Read_MuseXml_DerivedLeadIIIMatchesManifest()
    {
        var leads = Recordings.Twelve(SharedSamples.Read("muse-xml/muse-sinus.xml"));

        AssertClose([0.0146, 0.0098, 0.0098], leads["III"].AsSpan(0, 3).ToArray(), 0.00488);
    }

    [Fact]
    public void Read_EdfDigitalValues_MatchManifest()
    {
        // The manifest gives the first digital values of lead I (-20, -30, -33); physical = (d - dmin) * gain + pmin.
        var recording = SharedSamples.Read("edf/0000050.ECG.edf");
        var gain = 2000 / 65535.0;
        var digital = recording.Leads["I"].Take(3).Select(v => Math.Round(((v + 1000) / gain) - 32768)).ToArray();

        Assert.Equal([-20.0, -30.0, -33.0], digital);
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.InRange(actual[i], expected[i] - tolerance, expected[i] + tolerance);
        }
    }
}
