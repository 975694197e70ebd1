using Ecg2Af.Ecg.Formats;
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
    public void Crc16_IsCcittWithInitialFfff()
    {
        Assert.Equal(0x29B1, ScpEcgReader.Crc16("123456789"u8)); // the CRC-16/CCITT-FALSE check value
    }
}
