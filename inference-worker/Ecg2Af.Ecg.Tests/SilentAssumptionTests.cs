using System.Text;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>
/// No assumption between a file and the model goes unsaid: a rate is never guessed for an array (except exactly 5000
/// samples, flagged), a MUSE waveform without SampleBase is flagged, and flat independent leads are refused by name.
/// </summary>
public sealed class SilentAssumptionTests
{
    private static EcgRecording Js() => SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");

    /// <summary>JS00001 at twice its rate: every sample repeated, [10000, 12], as a 1 kHz recorder would give it.</summary>
    private static byte[] NpyAt1kHz()
    {
        var doubled = Js().Leads.ToDictionary(kv => kv.Key, kv => kv.Value.SelectMany(v => new[] { v, v }).ToArray());
        return NpyWriter.Write(doubled, NpyWriter.Layout.SamplesByLeadsFloat32);
    }

    [Fact]
    public void Read_Npy10000SamplesWithoutRate_IsRefusedSayingHowToGiveIt()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(new EcgFile("x.npy", NpyAt1kHz())));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("10000 samples per lead", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sample_rate_hz", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--sample-rate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Npy10000SamplesWithRate_IsTenSecondsWithoutAnAssumptionFlag()
    {
        var recording = EcgReader.Read(new EcgFile("x.npy", NpyAt1kHz()), new EcgReadOptions { SampleRateHz = 1000 });
        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);

        Assert.Equal(10, recording.DurationSeconds);
        Assert.DoesNotContain(prepared.QualityFlags, f => f.StartsWith("sample_rate_assumed", StringComparison.Ordinal));
        Assert.DoesNotContain(prepared.QualityFlags, f => f.StartsWith("cropped", StringComparison.Ordinal));
        Assert.Contains("resampled:1000Hz->500Hz", prepared.QualityFlags);
    }

    [Fact]
    public void Read_Npy5000SamplesWithoutRate_IsTakenAs500HzWithAFlagAndWarning()
    {
        var recording = EcgReader.Read(new EcgFile("x.npy", NpyWriter.Write(Js().Leads, NpyWriter.Layout.SamplesByLeadsFloat32)));

        Assert.Equal(500, recording.SampleRateHz);
        Assert.Contains("sample_rate_assumed:500Hz", recording.QualityFlags);
        Assert.Contains(recording.Warnings, w => w.Contains("taken as 10 s at 500 Hz", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_CsvWithoutRateAndNot5000Rows_IsRefusedSayingHowToGiveIt()
    {
        var text = new StringBuilder("I,II,V1,V2,V3,V4,V5,V6\n");
        for (var t = 0; t < 4000; t++)
        {
            text.Append(string.Join(',', Enumerable.Range(0, 8).Select(c => ((t * (c + 1)) % 97).ToString(System.Globalization.CultureInfo.InvariantCulture)))).Append('\n');
        }

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read(new EcgFile("x.csv", Encoding.ASCII.GetBytes(text.ToString()))));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("sample_rate_hz", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MuseWithoutSampleBase_IsFlaggedAndWarned_UnlessTheRequestGivesTheRate()
    {
        var text = Encoding.Latin1.GetString(SharedSamples.Bytes("muse-xml/muse-sinus.xml"));
        var rhythm = text.IndexOf("<WaveformType>Rhythm</WaveformType>", StringComparison.Ordinal);
        var at = text.IndexOf("<SampleBase>", rhythm, StringComparison.Ordinal);
        var end = text.IndexOf("</SampleBase>", at, StringComparison.Ordinal) + "</SampleBase>".Length;
        var file = new EcgFile("nobase.xml", Encoding.Latin1.GetBytes(text[..at] + text[end..]));

        var assumed = EcgReader.Read(file);
        var given = EcgReader.Read(file, new EcgReadOptions { SampleRateHz = 250 });

        Assert.Equal(500, assumed.SampleRateHz);
        Assert.Contains("sample_rate_assumed:500Hz", assumed.QualityFlags);
        Assert.Contains(assumed.Warnings, w => w.Contains("no SampleBase", StringComparison.Ordinal));
        Assert.Contains("sample_rate_assumed:500Hz", EcgPreprocessor.Prepare(assumed, InputSpec.Ecg2Af).QualityFlags);
        Assert.Equal(250, given.SampleRateHz);
        Assert.DoesNotContain(given.QualityFlags, f => f.StartsWith("sample_rate_assumed", StringComparison.Ordinal));
        Assert.DoesNotContain("sample_rate_assumed:500Hz", SharedSamples.Read("muse-xml/muse-sinus.xml").QualityFlags); // states its rate
    }

    [Theory]
    [InlineData("V1")]
    [InlineData("V4,V5,V6")]
    [InlineData("I")]
    public void Prepare_RealRecordWithFlatIndependentLeads_IsRefusedNamingThem(string leads)
    {
        var flat = leads.Split(',');
        var source = Js();
        var edited = Recordings.With(source, source.Leads.ToDictionary(kv => kv.Key, kv => flat.Contains(kv.Key) ? new float[kv.Value.Length] : kv.Value));

        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(edited, InputSpec.Ecg2Af));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains($"Leads {string.Join(", ", flat)} are flat", ex.Message, StringComparison.Ordinal);
        var allowed = EcgPreprocessor.Prepare(edited, InputSpec.Ecg2Af, new EcgReadOptions { AllowFlatLeads = true });
        Assert.Contains($"scored_with_flat_leads:{leads}", allowed.QualityFlags);
    }

    [Fact]
    public void Prepare_FlatDerivableLeadOnly_IsScored()
    {
        // aVL is I − II/2: flat whenever II = 2·I. Only the eight independent leads are required to carry signal.
        var source = Js();
        var leads = source.Leads.ToDictionary(kv => kv.Key, kv => kv.Key == "aVL" ? new float[kv.Value.Length] : kv.Value);

        var prepared = EcgPreprocessor.Prepare(Recordings.With(source, leads), InputSpec.Ecg2Af);

        Assert.Contains("flat_lead:aVL", prepared.QualityFlags);
        Assert.DoesNotContain(prepared.QualityFlags, f => f.StartsWith("scored_with_flat_leads", StringComparison.Ordinal));
    }

    [Fact]
    public void Prepare_MissingChestLeads_IsRefusedNamingThem()
    {
        var source = Js();
        var leads = source.Leads.Where(kv => kv.Key is not ("V2" or "V3")).ToDictionary(kv => kv.Key, kv => kv.Value);

        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(Recordings.With(source, leads), InputSpec.Ecg2Af));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("missing: V2, V3", ex.Message, StringComparison.Ordinal);
    }
}
