using Ecg2Af.Ecg.Formats;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>
/// SCP-ECG: the real sample (ECGToolkit's Example.scp, default Huffman table, second differences) decodes to exactly
/// the samples of its HL7 aECG and DICOM copies; damaged and unsupported variants are named.
/// </summary>
public sealed class ScpEcgReaderTests
{
    [Fact]
    public void Read_ScpExample_EqualsItsHl7AndDicomCopiesSampleForSample()
    {
        var scp = SharedSamples.Read("scp-ecg/Example.scp");
        var hl7 = SharedSamples.Read("hl7-aecg/Example_aECG.xml");
        var dicom = SharedSamples.Read("dicom/Example.dcm");

        Assert.Equal("scp-ecg", scp.Format);
        Assert.Equal(500, scp.SampleRateHz);
        Assert.Equal(5000, scp.SampleCount);
        Assert.Equal(0.0025, scp.QuantizationStepMv!.Value, 9); // AVM 2500 nV
        Assert.Empty(scp.QualityFlags); // every CRC matches
        Assert.Equal(Leads.Standard12.Order(), scp.Leads.Keys.Order());
        foreach (var lead in Leads.Standard12)
        {
            Assert.Equal(hl7.Leads[lead], scp.Leads[lead]);
            Assert.Equal(dicom.Leads[lead], scp.Leads[lead]);
        }

        Assert.Equal(
            EcgPreprocessor.Prepare(hl7, InputSpec.Ecg2Af).Data,
            EcgPreprocessor.Prepare(scp, InputSpec.Ecg2Af).Data);
    }

    [Fact]
    public void Read_ScpExample_MatchesManifestCheckValues()
    {
        var scp = SharedSamples.Read("scp-ecg/Example.scp");

        Assert.Equal([-0.0050f, -0.0050f, -0.0050f], scp.Leads["I"][..3], (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([-0.0175f, -0.0175f, -0.0175f], scp.Leads["II"][..3], (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(-0.6675, scp.Leads["II"].Min(), 5);
        Assert.Equal(0.3350, scp.Leads["II"].Max(), 5);
    }

    [Fact]
    public void Read_ScpWithAFlippedRhythmBit_FlagsTheCrcMismatch()
    {
        var bytes = SharedSamples.Bytes("scp-ecg/Example.scp").ToArray();
        bytes[20_000] ^= 0x10; // inside section 6's Huffman data

        var recording = EcgReader.Read(new EcgFile("x.scp", bytes));

        Assert.Contains("crc_mismatch:record", recording.QualityFlags);
        Assert.Contains("crc_mismatch:section6", recording.QualityFlags);
        Assert.Contains(recording.Warnings, w => w.Contains("CRC", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ScpWithBimodalCompression_IsRefusedNamingIt()
    {
        var bytes = SharedSamples.Bytes("scp-ecg/Example.scp").ToArray();
        bytes[3818 + 16 + 5] = 1; // section 6 (at byte 3819, 1-based): the bimodal compression byte

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(new EcgFile("x.scp", bytes)));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
        Assert.Contains("bimodal compression", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ScpDeclaringMoreSamplesThanItsHuffmanDataHold_StopsAtTheEndOfTheData()
    {
        // Section 3 of the sample: 12 leads × (start 1, end 5000). Claim 50000 samples for every lead: the decoder must
        // not read beyond each lead's bytes (or allocate beyond the declared count) and must say where the data ran out.
        var bytes = SharedSamples.Bytes("scp-ecg/Example.scp").ToArray();
        var leads = 328 + 16 + 2; // section 3 at byte 329 (1-based); its body starts after the 16-byte header
        for (var i = 0; i < 12; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(leads + (9 * i) + 4), 50_000u);
        }

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(new EcgFile("x.scp", bytes)));

        Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
        Assert.Contains("ends after", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ScpWithReferenceBeatSubtracted_AddsTheBeatBackOverEveryType0ZoneOnly()
    {
        // The real rhythm in counts, and a 300 ms "reference beat" cut from it around one QRS complex.
        var real = SharedSamples.Read("scp-ecg/Example.scp");
        var rhythm = Leads.Standard12.Select(l => real.Leads[l].Select(v => (int)Math.Round(v / 0.0025)).ToArray()).ToArray();
        var beat = rhythm.Select(lead => lead[900..1050]).ToArray();
        const ushort fiducial = 61; // 1-based: 120 ms into the beat
        List<ScpWriter.Complex> complexes =
        [
            new(1, 230, 250, 270), // another beat type: nothing was subtracted there
            .. new uint[] { 500, 1300, 2100, 2900, 3700, 4500 }.Select(c => new ScpWriter.Complex(0, c - 50, c, c + 80)),
            new(0, 4950, 4990, 5070), // runs past the last sample: added up to the end only
        ];
        var stored = rhythm.Select(lead => (int[])lead.Clone()).ToArray();
        foreach (var c in complexes.Where(c => c.Type == 0))
        {
            for (var t = c.Start; t <= Math.Min(c.End, 5000); t++)
            {
                var r = (int)(t - c.Fiducial + fiducial - 1);
                for (var lead = 0; lead < 12; lead++)
                {
                    stored[lead][t - 1] -= beat[lead][r];
                }
            }
        }

        var subtracted = EcgReader.Read(new EcgFile("sub.scp", ScpWriter.Write(stored, beat, fiducial, complexes, 2500, 2000, subtracted: true)));
        var notFlagged = EcgReader.Read(new EcgFile("raw.scp", ScpWriter.Write(stored, beat, fiducial, complexes, 2500, 2000, subtracted: false)));
        var lying = Assert.Throws<EcgFormatException>(() => EcgReader.Read(new EcgFile("lie.scp",
            ScpWriter.Write(stored, beat, fiducial, complexes, 2500, 2000, subtracted: true, withBeatSections: false))));

        Assert.Empty(subtracted.QualityFlags); // CRCs written right
        foreach (var lead in Leads.Standard12)
        {
            Assert.Equal(real.Leads[lead], subtracted.Leads[lead]); // the rhythm as it was before subtraction
        }

        Assert.NotEqual(real.Leads["II"], notFlagged.Leads["II"]); // without the flag the zones stay subtracted
        Assert.Equal(stored[1].Select(v => (float)(v * 0.0025)), notFlagged.Leads["II"], (a, b) => Math.Abs(a - b) < 1e-7);
        Assert.Equal(EcgErrorKind.Malformed, lying.Kind);
        Assert.Contains("sections 4 and 5 are missing", lying.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Crc16_IsCcittWithInitialFfff()
    {
        Assert.Equal(0x29B1, ScpEcgReader.Crc16("123456789"u8)); // the CRC-16/CCITT-FALSE check value
    }
}
