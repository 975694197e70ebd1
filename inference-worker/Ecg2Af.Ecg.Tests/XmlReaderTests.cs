using System.Text;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>GE MUSE XML and HL7 aECG rules (ecg-formats.md §3–4), on the real files and on variants edited from them.</summary>
public sealed class XmlReaderTests
{
    private const string Muse = "muse-xml/muse-sinus.xml";
    private const string Hl7 = "hl7-aecg/Example_aECG.xml";

    [Fact]
    public void Read_MuseXml_TakesTheRhythmWaveformNotTheMedianBeat()
    {
        var recording = SharedSamples.Read(Muse);

        Assert.Equal(5000, recording.SampleCount); // the Median waveform has 600
        Assert.Equal(new[] { "I", "II", "V1", "V2", "V3", "V4", "V5", "V6" }.Order(StringComparer.Ordinal), recording.Leads.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(recording.QualityFlags); // every LeadDataCRC32 matched
    }

    [Fact]
    public void Read_MuseXmlWithOnlyAMedianBeat_IsUnusable()
    {
        var text = Latin1(Muse);
        var rhythm = text.IndexOf("<WaveformType>Rhythm", StringComparison.Ordinal);
        var start = text.LastIndexOf("<Waveform>", rhythm, StringComparison.Ordinal);
        var end = text.IndexOf("</Waveform>", rhythm, StringComparison.Ordinal) + "</Waveform>".Length;

        var ex = Assert.Throws<EcgFormatException>(() => Read(text.Remove(start, end - start)));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("median", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Read_MuseXmlWithDecimalCommaAndCrlf_ReadsTheSameValues()
    {
        var variant = Latin1(Muse).Replace("4.88<", "4,88<", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);

        var recording = Read(variant);

        Assert.Equal(SharedSamples.Read(Muse).Leads["V3"], recording.Leads["V3"]);
    }

    [Fact]
    public void Read_MuseXmlInUtf16WithBom_ReadsTheSameValues()
    {
        var text = Latin1(Muse).Replace("encoding=\"ISO-8859-1\"", "encoding=\"UTF-16\"", StringComparison.Ordinal);
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray();

        var recording = EcgReader.Read([new EcgFile("utf16.xml", bytes)]);

        Assert.Equal(SharedSamples.Read(Muse).Leads["II"], recording.Leads["II"]);
    }

    [Fact]
    public void Read_MuseXmlWithDamagedWaveform_FlagsCrcMismatch()
    {
        var text = Latin1(Muse);
        var rhythm = text.IndexOf("<WaveformType>Rhythm", StringComparison.Ordinal);
        var data = text.IndexOf("<WaveFormData>", rhythm, StringComparison.Ordinal) + "<WaveFormData>".Length + 40;
        var damaged = text[..data] + (text[data] == 'A' ? 'B' : 'A') + text[(data + 1)..];

        var recording = Read(damaged);

        Assert.Equal(["crc_mismatch:I"], recording.QualityFlags);
    }

    [Fact]
    public void Read_MuseXmlAt250Hz_ReportsTheRateAndIsResampled()
    {
        var text = Latin1(Muse);
        var rhythm = text.IndexOf("<WaveformType>Rhythm", StringComparison.Ordinal);
        var variant = text[..rhythm] + text[rhythm..].Replace("<SampleBase>500</SampleBase>", "<SampleBase>250</SampleBase>", StringComparison.Ordinal);

        var recording = Read(variant);
        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);
        var tooShort = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(Truncate(recording, 2000), InputSpec.Ecg2Af));

        // 5000 samples at 250 Hz are 20 s: the first 10 s are used and upsampled; 2000 samples are only 8 s.
        Assert.Equal(250, recording.SampleRateHz);
        Assert.Contains("cropped:20s->10s", prepared.QualityFlags);
        Assert.Contains("resampled:250Hz->500Hz", prepared.QualityFlags);
        Assert.Equal(EcgErrorKind.Unusable, tooShort.Kind);
        Assert.Contains("8 s long", tooShort.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Hl7Aecg_TakesRhythmSequencesNotTheRepresentativeBeats()
    {
        var recording = SharedSamples.Read(Hl7);

        Assert.Equal(12, recording.Leads.Count);
        Assert.All(recording.Leads.Values, l => Assert.Equal(5000, l.Length)); // the beats have 599
        Assert.Equal(500, recording.SampleRateHz, 9);
    }

    [Fact]
    public void Read_Hl7AecgWithoutRhythmSeries_IsUnusable()
    {
        var edited = Utf8(Hl7).Replace("<code code=\"RHYTHM\"", "<code code=\"MEDIAN\"", StringComparison.Ordinal);

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("median.xml", Encoding.UTF8.GetBytes(edited))]));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("RHYTHM", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Hl7AecgWithOriginAndMillivoltScale_AppliesOriginPlusScaleTimesDigit()
    {
        var text = Utf8(Hl7);
        var lead = text.IndexOf("MDC_ECG_LEAD_V2", StringComparison.Ordinal);
        var edited = text[..lead] + ReplaceFirst(ReplaceFirst(text[lead..],
            "<origin value=\"0\" unit=\"uV\"/>", "<origin value=\"0.1\" unit=\"mV\"/>"),
            "<scale value=\"2.5\" unit=\"uV\"/>", "<scale value=\"0.0025\" unit=\"mV\"/>");
        var original = SharedSamples.Read(Hl7).Leads["V2"];

        var recording = EcgReader.Read([new EcgFile("edited.xml", Encoding.UTF8.GetBytes(edited))]);

        Assert.InRange(Fixtures.Recordings.MaxAbsDifference(original.Select(v => v + 0.1f).ToArray(), recording.Leads["V2"]), 0, 1e-6);
    }

    [Fact]
    public void Read_Hl7AecgIncrementInMilliseconds_GivesTheSameRate()
    {
        var edited = Utf8(Hl7).Replace("<increment value=\"0.002\" unit=\"s\"/>", "<increment value=\"2\" unit=\"ms\"/>", StringComparison.Ordinal);

        Assert.Equal(500, EcgReader.Read([new EcgFile("ms.xml", Encoding.UTF8.GetBytes(edited))]).SampleRateHz, 9);
    }

    [Fact]
    public void Read_XmlWithExternalEntity_NeverResolvesIt()
    {
        var secret = Path.Combine(Path.GetTempPath(), $"ecg-xxe-{Guid.NewGuid():N}.txt");
        File.WriteAllText(secret, "TOP-SECRET-XXE-CONTENT");
        try
        {
            var text = Latin1(Muse).Replace("<!DOCTYPE RestingECG SYSTEM \"restecg.dtd\">",
                $"<!DOCTYPE RestingECG [<!ENTITY xxe SYSTEM \"file://{secret}\">]>", StringComparison.Ordinal)
                .Replace("<LeadID>V1</LeadID>", "<LeadID>&xxe;</LeadID>", StringComparison.Ordinal);

            var ex = Assert.Throws<EcgFormatException>(() => Read(text));

            Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
            Assert.DoesNotContain("TOP-SECRET", ex.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public void Read_XmlEntityExpansionBomb_IsMalformedQuickly()
    {
        var laughs = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE RestingECG [<!ENTITY a0 \"lol\">");
        for (var i = 1; i < 10; i++)
        {
            laughs.Append($"<!ENTITY a{i} \"{string.Concat(Enumerable.Repeat($"&a{i - 1};", 10))}\">");
        }

        laughs.Append("]><RestingECG><Waveform><WaveformType>&a9;</WaveformType></Waveform></RestingECG>");
        // Memory, not time, shows the entities were not expanded (3 GB of text if they were; a clock limit fails on a loaded machine).
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<EcgFormatException>(() => Read(laughs.ToString()));

        Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 64 << 20);
    }

    private static EcgRecording Read(string xml) => EcgReader.Read([new EcgFile("edited.xml", Encoding.Latin1.GetBytes(xml))]);

    private static EcgRecording Truncate(EcgRecording recording, int samples) =>
        Fixtures.Recordings.With(recording, recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value[..samples]));

    private static string Latin1(string relative) => Encoding.Latin1.GetString(SharedSamples.Bytes(relative));

    private static string Utf8(string relative) => Encoding.UTF8.GetString(SharedSamples.Bytes(relative));

    private static string ReplaceFirst(string text, string find, string replacement)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' not found");
        return text[..at] + replacement + text[(at + find.Length)..];
    }

    [Theory]
    [InlineData("hl7-aecg/Example_aECG.xml")]
    [InlineData("hl7-aecg/ad4d3d80-d165_1-04_converted.xml")]
    public void Read_Hl7DigitsFastPath_GivesExactlyWhatTheXmlReaderPathGives(string sample)
    {
        // The real files take the fast path (digits parsed from the bytes, the XML reader given a skeleton). A character
        // reference inside the first digits sends the whole file down the plain XmlReader path; the results must agree.
        var bytes = SharedSamples.Bytes(sample);
        Assert.NotNull(Ecg2Af.Ecg.Formats.Hl7AecgReader.DigitSpans(bytes));
        var text = Encoding.UTF8.GetString(bytes);
        var at = text.IndexOf("<digits>", StringComparison.Ordinal) + "<digits>".Length;
        var plainBytes = Encoding.UTF8.GetBytes(text[..at] + "&#32;" + text[at..]);
        Assert.Null(Ecg2Af.Ecg.Formats.Hl7AecgReader.DigitSpans(plainBytes));

        var fast = EcgReader.Read(new EcgFile("fast.xml", bytes));
        var plain = EcgReader.Read(new EcgFile("plain.xml", plainBytes));

        Assert.Equal(plain.SampleRateHz, fast.SampleRateHz);
        Assert.Equal(plain.Leads.Keys.Order(), fast.Leads.Keys.Order());
        foreach (var lead in plain.Leads.Keys)
        {
            Assert.Equal(plain.Leads[lead], fast.Leads[lead]);
        }
    }

    [Theory]
    // Balanced by name, nested, with '>' in an attribute value and an end tag inside a comment: the whole element goes.
    [InlineData("<a><annotationSet x='>'><!-- </annotationSet> --><annotationSet/><annotationSet>t<b/></annotationSet ></annotationSet><c/></a>", "<a><c/></a>")]
    [InlineData("<a><annotationSet><![CDATA[</annotationSet>]]></annotationSet><c/></a>", "<a><c/></a>")]
    // Kept for the XML reader: another name, a prefixed name, an empty element, anything after a DOCTYPE, one inside a comment.
    [InlineData("<a><annotationSetting></annotationSetting></a>", "<a><annotationSetting></annotationSetting></a>")]
    [InlineData("<a><v:annotationSet></v:annotationSet></a>", "<a><v:annotationSet></v:annotationSet></a>")]
    [InlineData("<a><annotationSet/></a>", "<a><annotationSet/></a>")]
    // An unbalanced one stays (the XML reader then refuses the file); the complete one inside it still goes.
    [InlineData("<a><annotationSet><annotationSet></annotationSet></a>", "<a><annotationSet></a>")]
    [InlineData("<!DOCTYPE a><a><annotationSet></annotationSet></a>", "<!DOCTYPE a><a><annotationSet></annotationSet></a>")]
    [InlineData("<a><!-- <annotationSet></annotationSet> --></a>", "<a><!-- <annotationSet></annotationSet> --></a>")]
    public void Hl7Skeleton_AnnotationSets_AreLeftOutOnlyWhenTheirEndIsCertain(string xml, string expected)
    {
        var skeleton = Ecg2Af.Ecg.Formats.Hl7AecgReader.Skeleton(Encoding.UTF8.GetBytes(xml), [], out var length);

        Assert.Equal(expected, Encoding.UTF8.GetString(skeleton, 0, length));
    }
}
