using System.Buffers.Binary;
using System.Text;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>WFDB rules from ecg-formats.md §2, exercised on the real records and on headers rewritten from them.</summary>
public sealed class WfdbReaderTests
{
    private const string ChallengeHeader = "wfdb-challenge-mat/JS00001.hea";

    [Fact]
    public void Read_Format212WithDefaultBaseline_SubtractsAdcZero()
    {
        // 100.hea: "212 200 11 1024 ..." has no baseline in parentheses, so the baseline is ADC zero (1024).
        var recording = EcgReader.Read(SharedSamples.Wfdb("wfdb/100"));
        var withExplicitZero = EcgReader.Read([Header("wfdb/100.hea", h => h.Replace("212 200 11", "212 200(0) 11", StringComparison.Ordinal)), SharedSamples.File("wfdb/100.dat")]);

        Assert.Equal(2, recording.Leads.Count);
        Assert.Equal(-0.145f, recording.Leads["II"][0], 4);
        Assert.Equal(recording.Leads["V5"][0] + (1024 / 200f), withExplicitZero.Leads["V5"][0], 4);
        Assert.Contains(recording.Warnings, w => w.Contains("MLII", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_FractionalGainAndBaselineBeyondInt16_AppliesBoth()
    {
        // The CPSC 2021 style "38777.46675997201(-199006)/mV" over the JS00001 samples.
        var plain = EcgReader.Read(Challenge());
        var odd = EcgReader.Read(Challenge(h => h.Replace("1000/mV", "38777.46675997201(-199006)/mV", StringComparison.Ordinal)));

        var digital = plain.Leads["I"][0] * 1000;
        Assert.Equal((digital + 199006) / 38777.46675997201, odd.Leads["I"][0], 4);
        Assert.Equal(1 / 38777.46675997201, odd.QuantizationStepMv!.Value, 12);
    }

    [Theory]
    [InlineData("1000/mV")]
    [InlineData("1.0e+03/mV")]
    [InlineData("1000.0(0)/mv")]
    [InlineData("1/uV")]
    [InlineData("1000")]
    public void Read_GainAndUnitVariants_GiveTheSameMillivolts(string gain)
    {
        var reference = EcgReader.Read(Challenge());
        var variant = EcgReader.Read(Challenge(h => h.Replace("1000/mV", gain, StringComparison.Ordinal)));

        foreach (var lead in Leads.Standard12)
        {
            Assert.Equal(reference.Leads[lead], variant.Leads[lead]);
        }
    }

    [Fact]
    public void Read_ChallengeFormatWithSamplesPerFrame_ReadsLikePlainFormat16()
    {
        var reference = EcgReader.Read(Challenge());
        var variant = EcgReader.Read(Challenge(h => h.Replace("16+24", "16x1+24", StringComparison.Ordinal)));

        Assert.Equal(reference.Leads["V6"], variant.Leads["V6"]);
    }

    [Theory]
    [InlineData("wfdb/00001_lr", ".dat")] // checksums written unsigned (64758)
    [InlineData("wfdb/muse-af", ".dat")] // checksums written signed (-12237)
    [InlineData("wfdb-challenge-mat/JS00001", ".mat")]
    public void Read_ChecksumsSignedOrUnsigned_AllMatch(string record, string extension)
    {
        var recording = EcgReader.Read(SharedSamples.Wfdb(record, extension));

        Assert.Empty(recording.QualityFlags);
    }

    [Fact]
    public void Read_DamagedSignalFile_FlagsChecksumMismatch()
    {
        var data = SharedSamples.Bytes("wfdb/00001_lr.dat").ToArray();
        data[2 * 12 * 500] ^= 0x40; // one sample of lead I, mid-record

        var recording = EcgReader.Read([SharedSamples.File("wfdb/00001_lr.hea"), new EcgFile("00001_lr.dat", data)]);

        Assert.Equal(["checksum_mismatch:I"], recording.QualityFlags);
        Assert.Contains("checksum_mismatch:I", EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af).QualityFlags);
    }

    [Fact]
    public void Read_SignalsInSeveralFiles_JoinsThemByName()
    {
        // 00001_lr rewritten as a PTB-style record: limb leads in a.dat, chest leads in b.dat, Frank leads in c.xyz.
        var original = EcgReader.Read(SharedSamples.Wfdb("wfdb/00001_lr"));
        var data = SharedSamples.Bytes("wfdb/00001_lr.dat");
        var frames = data.Length / 24;
        var a = new byte[frames * 12];
        var b = new byte[frames * 12];
        for (var f = 0; f < frames; f++)
        {
            data.AsSpan((f * 24) + 0, 12).CopyTo(a.AsSpan(f * 12));
            data.AsSpan((f * 24) + 12, 12).CopyTo(b.AsSpan(f * 12));
        }

        var lines = Encoding.ASCII.GetString(SharedSamples.Bytes("wfdb/00001_lr.hea")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = new StringBuilder("split 15 100 1000\n");
        for (var s = 1; s <= 12; s++)
        {
            header.Append(lines[s].Replace("00001_lr.dat", s <= 6 ? "a.dat" : "b.dat", StringComparison.Ordinal)).Append('\n');
        }

        header.Append("c.xyz 16 1000/mV 16 0 0 0 0 vx\nc.xyz 16 1000/mV 16 0 0 0 0 vy\nc.xyz 16 1000/mV 16 0 0 0 0 vz\n");

        // c.xyz is not uploaded: it holds only Frank leads, which are not needed.
        var split = EcgReader.Read([new EcgFile("split.hea", Encoding.ASCII.GetBytes(header.ToString())), new EcgFile("b.dat", b), new EcgFile("a.dat", a)]);

        foreach (var lead in Leads.Standard12)
        {
            Assert.Equal(original.Leads[lead], split.Leads[lead]);
        }

        Assert.Contains(split.Warnings, w => w.Contains("vx", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_HeaderNamingAnotherFile_UsesTheOnlyUploadedDataFileAndSaysSo()
    {
        // EGM's LUDB copy names "1.dat" inside "ludb-ecg.hea".
        var files = Challenge(h => h.Replace("JS00001.mat", "1.mat", StringComparison.Ordinal));

        var recording = EcgReader.Read(files);

        Assert.Contains("signal_file_renamed", recording.QualityFlags);
        Assert.Equal(12, recording.Leads.Count);
    }

    [Fact]
    public void Read_HeaderWithoutItsDataFile_FailsNamingTheFile()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([SharedSamples.File("wfdb/muse-af.hea")]));

        Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
        Assert.Contains("muse-af.dat", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MultiSegmentRecord_IsRefusedAsUnsupported()
    {
        var header = "multi/2 12 500 10000\n" + string.Join('\n', Encoding.ASCII.GetString(SharedSamples.Bytes(ChallengeHeader)).Split('\n').Skip(1));

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("multi.hea", Encoding.ASCII.GetBytes(header)), SharedSamples.File("wfdb-challenge-mat/JS00001.mat")]));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
        Assert.Contains("multi-segment", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnsupportedStorageFormat_IsRefusedNamingIt()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(Challenge(h => h.Replace("16+24", "310", StringComparison.Ordinal))));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
        Assert.Contains("310", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SampleCountMissing_InfersItFromTheFileSize()
    {
        var recording = EcgReader.Read(Challenge(h => h.Replace("JS00001 12 500 5000", "JS00001 12 500", StringComparison.Ordinal)));

        Assert.Equal(5000, recording.SampleCount);
    }

    [Fact]
    public void Read_HeaderDeclaringMoreSamplesThanTheFileHolds_IsMalformed()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(Challenge(h => h.Replace("12 500 5000", "12 500 5001", StringComparison.Ordinal))));

        Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
    }

    [Fact]
    public void Read_HugeDeclaredSampleCount_IsTooLarge()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(Challenge(h => h.Replace("12 500 5000", "12 500 900000000000", StringComparison.Ordinal))));

        Assert.Equal(EcgErrorKind.TooLarge, ex.Kind);
    }

    [Fact]
    public void Read_InvalidSampleMarker_BecomesNaNAndIsRepairedInPreparation()
    {
        var data = SharedSamples.Bytes("wfdb-challenge-mat/JS00001.mat").ToArray();
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(24 + (2 * 12 * 100)), short.MinValue); // lead I, sample 100

        var recording = EcgReader.Read([SharedSamples.File(ChallengeHeader), new EcgFile("JS00001.mat", data)]);
        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);

        Assert.True(float.IsNaN(recording.Leads["I"][100]));
        Assert.Contains("non_finite:I:1", prepared.QualityFlags);
        Assert.All(prepared.Data, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Read_ChannelsWithoutDescriptions_UseTheRequestedLeadOrder()
    {
        var unnamed = Challenge(h => string.Join('\n', h.Split('\n').Select(l => l.StartsWith("JS00001.mat", StringComparison.Ordinal) ? string.Join(' ', l.Split(' ')[..8]) : l)));

        var refused = Assert.Throws<EcgFormatException>(() => EcgReader.Read(unnamed));
        var named = EcgReader.Read(unnamed, new EcgReadOptions { LeadOrder = Leads.Standard12 });

        Assert.Equal(EcgErrorKind.Unusable, refused.Kind);
        Assert.Equal(EcgReader.Read(Challenge()).Leads["aVL"], named.Leads["aVL"]);
    }

    private static EcgFile[] Challenge(Func<string, string>? edit = null) =>
        [Header(ChallengeHeader, edit ?? (h => h)), SharedSamples.File("wfdb-challenge-mat/JS00001.mat")];

    private static EcgFile Header(string relative, Func<string, string> edit) =>
        new(Path.GetFileName(relative), Encoding.ASCII.GetBytes(edit(Encoding.ASCII.GetString(SharedSamples.Bytes(relative)))));
}
