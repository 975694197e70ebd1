using System.Globalization;
using System.Text;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>CSV/TSV variants from ecg-formats.md §9, written from the real ECG_12L.csv and JS00001 leads.</summary>
public sealed class CsvReaderTests
{
    private const string Sample = "csv/ECG_12L.csv";

    [Fact]
    public void Read_PreambleWithRateAndGain_AppliesBoth()
    {
        var recording = SharedSamples.Read(Sample);

        Assert.Equal(500, recording.SampleRateHz);
        Assert.Equal(50 / 2048f, recording.Leads["I"][0], 6); // first row "50,-100,..." in counts of 1/2048 mV
        Assert.DoesNotContain(recording.QualityFlags, f => f.StartsWith("units_assumed", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_RequestUnitsAndRate_OverrideThePreamble()
    {
        var recording = SharedSamples.Read(new EcgReadOptions { Units = "uV", SampleRateHz = 1000 }, Sample);

        Assert.Equal(1000, recording.SampleRateHz);
        Assert.Equal(0.05f, recording.Leads["I"][0], 6);
    }

    [Fact]
    public void Read_SemicolonWithDecimalCommaAndTimeColumn_MatchesTheCommaFile()
    {
        var reference = JsLeads();
        var text = new StringBuilder("Time (ms);").AppendJoin(';', Leads.Standard12.Select(l => $"{l} [mV]")).Append('\n');
        for (var t = 0; t < 5000; t++)
        {
            text.Append((t * 2).ToString(CultureInfo.InvariantCulture));
            foreach (var lead in Leads.Standard12)
            {
                text.Append(';').Append(reference[lead][t].ToString("0.###", CultureInfo.InvariantCulture).Replace('.', ','));
            }

            text.Append('\n');
        }

        var recording = Read(text.ToString());

        Assert.Equal(500, recording.SampleRateHz, 6); // from the 2 ms time steps
        foreach (var lead in Leads.Standard12)
        {
            Assert.InRange(Recordings.MaxAbsDifference(reference[lead], recording.Leads[lead]), 0, 1e-6);
        }

        Assert.DoesNotContain(recording.QualityFlags, f => f.StartsWith("units_assumed", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_TabSeparatedMicrovoltsWithoutUnits_InfersMicrovoltsAndSaysSo()
    {
        var reference = JsLeads();
        var text = new StringBuilder().AppendJoin('\t', Leads.Standard12.Reverse()).Append('\n');
        for (var t = 0; t < 5000; t++)
        {
            text.AppendJoin('\t', Leads.Standard12.Reverse().Select(l => (reference[l][t] * 1000).ToString("0", CultureInfo.InvariantCulture))).Append('\n');
        }

        var recording = Read(text.ToString());

        Assert.Contains("units_assumed:uV", recording.QualityFlags);
        Assert.Contains("sample_rate_assumed:500Hz", recording.QualityFlags); // 5000 rows, no rate
        Assert.InRange(Recordings.MaxAbsDifference(reference["aVR"], recording.Leads["aVR"]), 0, 1e-6);
    }

    [Fact]
    public void Read_TransposedRowsPerLead_MatchesTheColumnFile()
    {
        var reference = JsLeads();
        var text = new StringBuilder();
        foreach (var lead in Leads.Standard12)
        {
            text.Append(lead).Append(',').AppendJoin(',', reference[lead].Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        }

        var recording = Read(text.ToString(), new EcgReadOptions { SampleRateHz = 500, Units = "mV" });

        foreach (var lead in Leads.Standard12)
        {
            Assert.Equal(reference[lead], recording.Leads[lead]);
        }
    }

    [Fact]
    public void Read_RdsampExportWithUnitsRow_ReadsUnitsAndMapsMlii()
    {
        var text = new StringBuilder("'sample #','MLII','V5'\n'samples','mV','mV'\n");
        for (var t = 0; t < 4000; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{t},{Math.Sin(t / 50.0):0.000},{Math.Cos(t / 50.0):0.000}\n");
        }

        var recording = Read(text.ToString(), new EcgReadOptions { SampleRateHz = 360 });

        Assert.Equal(["II", "V5"], recording.Leads.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0.841f, recording.Leads["II"][50 * 1], 3);
        Assert.DoesNotContain(recording.QualityFlags, f => f.StartsWith("units_assumed", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_NoHeaderAndNoLeadOrder_IsUnusableAndAsksForTheOrder()
    {
        var ex = Assert.Throws<EcgFormatException>(() => SharedSamples.Read("csv/0000050.ECG.csv"));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("lead order", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoSampleRateAndNot5000Rows_IsUnusable()
    {
        var ex = Assert.Throws<EcgFormatException>(() => SharedSamples.Read(new EcgReadOptions { LeadOrder = Leads.Standard12 }, "csv/0000050.ECG.csv"));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("sample rate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ContecCsvWithRequestOptions_ReportsEmptyColumnsAsMissingLeads()
    {
        var recording = SharedSamples.Read(new EcgReadOptions { LeadOrder = Leads.Standard12, SampleRateHz = 800 }, "csv/0000050.ECG.csv");

        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af));

        Assert.Contains("empty_column:V1", recording.QualityFlags);
        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("missing: V1, V2, V3, V4, V5, V6", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SingleColumnOfNumbers_IsUnusableAsSingleLead()
    {
        var text = "Name,Apple\nSample Rate,512 hertz\n" + string.Join('\n', Enumerable.Range(0, 3000).Select(i => (i % 7).ToString(CultureInfo.InvariantCulture)));

        var ex = Assert.Throws<EcgFormatException>(() => Read(text));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("single", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("utf-16 with BOM")]
    [InlineData("utf-8 with BOM")]
    [InlineData("latin-1")]
    public void Read_SameTableInAnotherEncodingWithOtherLineEnds_ReadsTheSameValues(string variant)
    {
        // The real file re-encoded as Excel and older carts write it, with CR or CR LF line ends, blank and
        // white-space-only lines, and the units in a µV header that is not valid UTF-8 in Latin-1.
        var reference = SharedSamples.Read(Sample);
        var original = File.ReadAllText(SharedSamples.PathOf(Sample)).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var lineEnd = variant == "latin-1" ? "\r" : "\r\n";
        var text = new StringBuilder("\n \t \n").Append(lineEnd);
        foreach (var line in original)
        {
            text.Append(line).Append(lineEnd).Append(line.StartsWith("Gain", StringComparison.Ordinal) ? "   " + lineEnd : "");
        }

        byte[] bytes = variant switch
        {
            "utf-16 with BOM" => [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(text.ToString())],
            "utf-8 with BOM" => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text.ToString())],
            _ => Encoding.Latin1.GetBytes(text.ToString().Replace("Gain (digit/millivolt): 2048", "Units: µV", StringComparison.Ordinal)),
        };

        var recording = EcgReader.Read([new EcgFile("export.csv", bytes)], null);

        Assert.Equal(500, recording.SampleRateHz);
        foreach (var lead in Leads.Standard12)
        {
            var expected = variant == "latin-1" ? reference.Leads[lead].Select(v => v * 2048 / 1000).ToArray() : reference.Leads[lead];
            Assert.InRange(Recordings.MaxAbsDifference(expected, recording.Leads[lead]), 0, 1e-6);
        }
    }

    [Fact]
    public void Read_ProseText_IsUnsupported()
    {
        var ex = Assert.Throws<EcgFormatException>(() => Read("This is a letter.\nIt has no numbers in columns.\nRegards.\n"));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
    }

    private static Dictionary<string, float[]> JsLeads() =>
        Recordings.Twelve(SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat"));

    private static EcgRecording Read(string text, EcgReadOptions? options = null) =>
        EcgReader.Read([new EcgFile("upload.txt", Encoding.UTF8.GetBytes(text))], options);
}
