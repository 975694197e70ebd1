using PureHDF;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>
/// Both ml4h layouts, written with PureHDF from real samples (no real .hd5 exists in ../shared): the UK Biobank strips
/// (gzip float µV) and the MGB acquisitions (scalar opaque zstd frames of int16 µV).
/// </summary>
public sealed class Hdf5ReaderTests
{
    [Fact]
    public void Read_UkbLayoutFromRealSample_PreparesToTheSameModelInput()
    {
        var source = SharedSamples.Read("hl7-aecg/Example_aECG.xml");
        var file = new EcgFile("patient.hd5", Ml4hHdf5Writer.WriteUkb(source.Leads));

        var recording = EcgReader.Read([file]);

        Assert.Equal("ml4h-hdf5-ukb", recording.Format);
        Assert.Equal(500, recording.SampleRateHz);
        Assert.InRange(
            Recordings.MaxAbsDifference(EcgPreprocessor.Prepare(source, InputSpec.Ecg2Af).Data, EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af).Data),
            0, 1e-5);
    }

    [Fact]
    public void Read_UkbLayoutWithSeveralInstances_ReadsTheRequestedOne()
    {
        var first = SharedSamples.Read("hl7-aecg/Example_aECG.xml");
        var second = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var root = new H5Group();
        foreach (var lead in Leads.Standard12)
        {
            root[$"strip_{lead}"] = new H5Group
            {
                ["instance_0"] = new H5Dataset(first.Leads[lead].Select(v => v * 1000.0).ToArray()),
                ["instance_2"] = new H5Dataset(second.Leads[lead].Select(v => v * 1000.0).ToArray()),
            };
        }

        var file = new EcgFile("two.hd5", Ml4hHdf5Writer.Write(new H5File { ["ukb_ecg_rest"] = root }));

        Assert.Equal(first.Leads["V4"], EcgReader.Read([file]).Leads["V4"]);
        Assert.Equal(second.Leads["V4"], EcgReader.Read([file], new EcgReadOptions { Acquisition = "2" }).Leads["V4"]);
        Assert.Equal(EcgErrorKind.Unusable, Assert.Throws<EcgFormatException>(() => EcgReader.Read([file], new EcgReadOptions { Acquisition = "instance_1" })).Kind);
    }

    [Fact]
    public void Read_MgbLayoutFromRealSample_DecodesZstdOpaqueLeadsExactly()
    {
        // JS00001 holds whole microvolts, which the MGB layout stores exactly.
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var file = new EcgFile("MRN123.hd5", Ml4hHdf5Writer.WriteMgb(new Dictionary<string, IReadOnlyDictionary<string, float[]>>
        {
            ["2019-05-01T08:30:00"] = source.Leads,
        }));

        var recording = EcgReader.Read([file]);

        Assert.Equal("ml4h-hdf5-mgb", recording.Format);
        Assert.Equal(500, recording.SampleRateHz); // from the zstd text dataset waveform_samplebase
        Assert.Empty(recording.Warnings); // the group's other datasets are not reported as ignored channels
        foreach (var lead in Leads.Standard12)
        {
            Assert.InRange(Recordings.MaxAbsDifference(source.Leads[lead], recording.Leads[lead]), 0, 1e-6);
        }

        Assert.InRange(
            Recordings.MaxAbsDifference(EcgPreprocessor.Prepare(source, InputSpec.Ecg2Af).Data, EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af).Data),
            0, 1e-5);
    }

    [Fact]
    public void Read_MgbLayoutWithSeveralAcquisitions_TakesTheNewestUnlessOneIsRequested()
    {
        var older = SharedSamples.Read("hl7-aecg/Example_aECG.xml").Leads;
        var newer = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat").Leads;
        var file = new EcgFile("MRN.hd5", Ml4hHdf5Writer.WriteMgb(new Dictionary<string, IReadOnlyDictionary<string, float[]>>
        {
            ["2021-11-02T10:00:00"] = newer,
            ["2009-03-15T14:05:00"] = older,
        }));

        var newest = EcgReader.Read([file]);
        var chosen = EcgReader.Read([file], new EcgReadOptions { Acquisition = "2009-03-15T14:05:00" });
        var missing = Assert.Throws<EcgFormatException>(() => EcgReader.Read([file], new EcgReadOptions { Acquisition = "2000-01-01T00:00:00" }));

        Assert.Equal(newer["V1"], newest.Leads["V1"]);
        Assert.Contains(newest.Warnings, w => w.Contains("2021-11-02T10:00:00", StringComparison.Ordinal));
        Assert.InRange(Recordings.MaxAbsDifference(older["V1"], chosen.Leads["V1"]), 0, 0.0005 + 1e-6); // 2.5 µV steps stored as whole µV
        Assert.Equal(EcgErrorKind.Unusable, missing.Kind);
        Assert.Contains("2009-03-15T14:05:00", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MgbLayoutWith2500SamplesAndNoRate_Assumes10SecondsAndUpsamples()
    {
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat").Leads;
        var halved = source.ToDictionary(kv => kv.Key, kv => kv.Value.Where((_, i) => i % 2 == 0).ToArray());
        var file = new EcgFile("250.hd5", Ml4hHdf5Writer.WriteMgb(new Dictionary<string, IReadOnlyDictionary<string, float[]>>
        {
            ["2015-01-01T00:00:00"] = halved,
        }, withSampleBase: false));

        var recording = EcgReader.Read([file]);
        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);

        Assert.Equal(250, recording.SampleRateHz);
        Assert.Contains("sample_rate_assumed:250Hz", prepared.QualityFlags);
        Assert.Contains("resampled:250Hz->500Hz", prepared.QualityFlags);
    }

    [Fact]
    public void Read_MgbLeadThatIsAZstdBomb_IsTooLargeBeforeInflating()
    {
        var options = new EcgReadOptions { MaxDecompressedBytes = 1 << 20 };
        var bomb = new byte[8 << 20]; // 8 MiB of zeros compress to a few hundred bytes
        var file = new EcgFile("bomb.hd5", Ml4hHdf5Writer.Write(new H5File
        {
            ["partners_ecg_rest"] = new H5Group { ["2020-01-01T00:00:00"] = new H5Group { ["I"] = Ml4hHdf5Writer.Opaque(bomb, "int16", bomb.Length / 2) } },
        }));

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([file], options));

        Assert.True(file.Content.Length < 10_000);
        Assert.Equal(EcgErrorKind.TooLarge, ex.Kind);
    }

    [Fact]
    public void Read_MgbLeadWhoseFrameIsLargerThanDeclared_IsMalformed()
    {
        // 'len' says 5000 samples but the frame inflates to 4 MiB: decompression stops at the declared size.
        var dataset = Ml4hHdf5Writer.Opaque(new byte[4 << 20], "int16", 5000);
        var file = new EcgFile("lie.hd5", Ml4hHdf5Writer.Write(new H5File
        {
            ["partners_ecg_rest"] = new H5Group { ["2020-01-01T00:00:00"] = new H5Group { ["I"] = dataset } },
        }));

        Assert.Equal(EcgErrorKind.Malformed, Assert.Throws<EcgFormatException>(() => EcgReader.Read([file])).Kind);
    }

    [Fact]
    public void Read_HugeDeclaredUkbStrip_IsTooLarge()
    {
        var source = SharedSamples.Read("hl7-aecg/Example_aECG.xml");
        var file = new EcgFile("big.hd5", Ml4hHdf5Writer.WriteUkb(source.Leads));

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([file], new EcgReadOptions { MaxSamples = 10_000 }));

        Assert.Equal(EcgErrorKind.TooLarge, ex.Kind);
    }

    [Fact]
    public void Read_Hdf5WithoutEcgGroups_IsUnsupportedAndListsWhatItHas()
    {
        var file = new EcgFile("other.h5", Ml4hHdf5Writer.Write(new H5File { ["images"] = new H5Group { ["x"] = new H5Dataset(new[] { 1, 2, 3 }) } }));

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([file]));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
        Assert.Contains("images", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BareEcgArray_ReadsItInEcg2AfOrder()
    {
        var source = SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");
        var matrix = new float[5000, 12];
        for (var t = 0; t < 5000; t++)
        {
            for (var c = 0; c < 12; c++)
            {
                matrix[t, c] = source.Leads[Leads.Standard12[c]][t];
            }
        }

        var file = new EcgFile("ecg.h5", Ml4hHdf5Writer.Write(new H5File { ["ecg"] = new H5Dataset(matrix) }));

        var recording = EcgReader.Read([file]);

        Assert.Equal("hdf5-array", recording.Format);
        Assert.Equal(source.Leads["aVF"], recording.Leads["aVF"]);
    }
}
