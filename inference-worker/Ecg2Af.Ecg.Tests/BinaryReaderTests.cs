using System.Text;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>DICOM, EDF/BDF and NPY: the real files plus variants written from real leads.</summary>
public sealed class BinaryReaderTests
{
    private const string Dicom = "dicom/Example.dcm";

    [Fact]
    public void Read_DicomExplicitVrWithMdcCodesAndMillivolts_EqualsTheSource()
    {
        var source = SharedSamples.Read("hl7-aecg/Example_aECG.xml");
        var bytes = DicomWriter.Write(source.Leads, stepMv: 0.0025, sampleRateHz: 500);

        var recording = EcgReader.Read([new EcgFile("explicit.bin", bytes)]);

        Assert.Equal("dicom-ecg", recording.Format);
        foreach (var lead in Leads.Standard12)
        {
            Assert.InRange(Recordings.MaxAbsDifference(source.Leads[lead], recording.Leads[lead]), 0, 1e-6);
        }
    }

    [Fact]
    public void Read_DicomWaveformThatIsNotAnEcg_IsUnusable()
    {
        // Hemodynamic waveform storage (…9.2.1) has the same layout but is not an ECG.
        var bytes = Replace(SharedSamples.Bytes(Dicom), "1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.840.10008.5.1.4.1.1.9.2.1");

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("hemo.dcm", bytes)]));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("not an ECG", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DicomWithoutWaveform_IsUnsupported()
    {
        var bytes = SharedSamples.Bytes(Dicom).ToArray();
        var at = bytes.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x00, 0x54, 0x00, 0x01]); // (5400,0100) WaveformSequence
        bytes[at + 2] = 0x02;

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("image.dcm", bytes)]));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
    }

    [Fact]
    public void Read_TruncatedDicom_IsMalformed()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("cut.dcm", SharedSamples.Bytes(Dicom)[..60_000])]));

        Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
    }

    [Fact]
    public void Read_EdfContecSample_FlatChestLeadsRefusedUnlessAllowedThenFlaggedLoudly()
    {
        var recording = SharedSamples.Read("edf/0000050.ECG.edf");
        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af));
        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("Leads V1, V2, V3, V4, V5, V6 are flat", ex.Message, StringComparison.Ordinal);
        Assert.Contains("allow_flat_leads", ex.Message, StringComparison.Ordinal);

        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af, new EcgReadOptions { AllowFlatLeads = true });

        Assert.Contains("scored_with_flat_leads:V1,V2,V3,V4,V5,V6", prepared.QualityFlags);
        Assert.Contains(prepared.Warnings, w => w.StartsWith("SCORED WITH FLAT LEADS", StringComparison.Ordinal));
        Assert.Equal(["V1", "V2", "V3", "V4", "V5", "V6"], prepared.QualityFlags.Where(f => f.StartsWith("flat_lead:", StringComparison.Ordinal)).Select(f => f[10..]));
        Assert.Contains(prepared.QualityFlags, f => f.StartsWith("amplitude_high", StringComparison.Ordinal));
        Assert.Contains("cropped:47.319s->10s", prepared.QualityFlags);
        Assert.Contains("resampled:800Hz->500Hz", prepared.QualityFlags);
    }

    [Theory]
    [InlineData(false, "mV", 1000)]
    [InlineData(false, "uV", 400)]
    [InlineData(true, "mV", 1000)]
    public void Read_EdfOrBdfWrittenFromRealLeads_EqualsTheSource(bool bdf, string dimension, double countsPerMv)
    {
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var signals = Leads.Standard12.Select(l => new EdfWriter.Signal($"ECG {l}", source.Leads[l], dimension)).ToList();

        var recording = EcgReader.Read([new EcgFile("x.edf", EdfWriter.Write(signals, 500, bdf, countsPerMv, reserved: "EDF+C", annotations: 30))]);

        Assert.Equal(500, recording.SampleRateHz);
        foreach (var lead in Leads.Standard12)
        {
            // EDF's physical range maps ±dmax exactly, so the only error is rounding to the counts written.
            Assert.InRange(Recordings.MaxAbsDifference(source.Leads[lead], recording.Leads[lead]), 0, (0.5 / countsPerMv) + 1e-5);
        }

        Assert.DoesNotContain(recording.Warnings, w => w.Contains("Annotations", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_DiscontinuousEdfPlus_IsUnsupported()
    {
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var bytes = EdfWriter.Write([new EdfWriter.Signal("I", source.Leads["I"])], 500, reserved: "EDF+D", annotations: 30);

        Assert.Equal(EcgErrorKind.UnsupportedFormat, Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("d.edf", bytes)])).Kind);
    }

    [Theory]
    [InlineData(nameof(NpyWriter.Layout.SamplesByLeadsFloat32))]
    [InlineData(nameof(NpyWriter.Layout.LeadsBySamplesInt16BigEndianFortran))]
    [InlineData(nameof(NpyWriter.Layout.BatchOfOneFloat64))]
    public void Read_NpyConvertedFromRealSample_PreparesToTheSameModelInput(string layoutName)
    {
        var layout = Enum.Parse<NpyWriter.Layout>(layoutName);
        // JS00001 holds whole µV, so int16 counts of 1000 per mV are exact.
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var npy = NpyWriter.Write(source.Leads, layout);
        var options = layout == NpyWriter.Layout.LeadsBySamplesInt16BigEndianFortran ? new EcgReadOptions { CountsPerMillivolt = 1000 } : null;

        var recording = EcgReader.Read([new EcgFile("JS00001.npy", npy)], options);
        var expected = EcgPreprocessor.Prepare(source, InputSpec.Ecg2Af);
        var actual = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);

        Assert.Equal("npy", recording.Format);
        Assert.InRange(Recordings.MaxAbsDifference(expected.Data, actual.Data), 0, 1e-5);
        Assert.Contains("sample_rate_assumed:500Hz", actual.QualityFlags);
    }

    [Fact]
    public void Read_NpyOfPythonObjects_IsNeverUnpickled()
    {
        var header = "{'descr': '|O', 'fortran_order': False, 'shape': (5000, 12), }".PadRight(117) + "\n";
        var bytes = new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 }.Concat(Encoding.ASCII.GetBytes(header)).Concat(new byte[64]).ToArray();

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("pickle.npy", bytes)]));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
    }

    [Fact]
    public void Read_NpyWithWrongShape_IsUnusableAndSaysTheShape()
    {
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var npy = NpyWriter.Write(source.Leads, NpyWriter.Layout.SamplesByLeadsFloat32);
        var text = Encoding.Latin1.GetString(npy).Replace("(5000, 12)", "(6000, 10)", StringComparison.Ordinal);

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("bad.npy", Encoding.Latin1.GetBytes(text))]));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("6000, 10", ex.Message, StringComparison.Ordinal);
    }

    private static byte[] Replace(byte[] bytes, string find, string replacement)
    {
        var text = Encoding.Latin1.GetString(bytes);
        Assert.Contains(find, text, StringComparison.Ordinal);
        return Encoding.Latin1.GetBytes(text.Replace(find, replacement, StringComparison.Ordinal));
    }
}
