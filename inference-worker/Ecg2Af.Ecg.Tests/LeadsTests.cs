namespace Ecg2Af.Ecg.Tests;

/// <summary>Lead-name normalisation (ecg-formats.md §1) as real files spell the names.</summary>
public sealed class LeadsTests
{
    [Theory]
    [InlineData("I", "I")]
    [InlineData("i", "I")]
    [InlineData("DI", "I")]
    [InlineData("Lead I (Einthoven)", "I")]
    [InlineData("ECG I", "I")]
    [InlineData("ECG-I", "I")]
    [InlineData("MDC_ECG_LEAD_I", "I")]
    [InlineData("strip_I", "I")]
    [InlineData("D2", "II")]
    [InlineData("EKG II", "II")]
    [InlineData("iii", "III")]
    [InlineData("AVR", "aVR")]
    [InlineData("avr", "aVR")]
    [InlineData("MDC_ECG_LEAD_AVL", "aVL")]
    [InlineData("strip_aVF", "aVF")]
    [InlineData("C1", "V1")]
    [InlineData("v6", "V6")]
    [InlineData(" 'V4' ", "V4")]
    public void Normalize_NamesSeenInRealFiles_MapToCanonicalLead(string label, string expected)
    {
        Assert.Equal(expected, Leads.Normalize(label));
    }

    [Theory]
    [InlineData("V3R")]
    [InlineData("V7")]
    [InlineData("vx")]
    [InlineData("X")]
    [InlineData("Resp")]
    [InlineData("")]
    public void Normalize_ExtraOrNonEcgChannels_AreNotLeads(string label)
    {
        Assert.Null(Leads.Normalize(label));
    }

    [Fact]
    public void Parse_InvertedAndAmbulatoryLabels_AreMarked()
    {
        Assert.Equal(new LeadLabel("aVR", Inverted: true, Modified: false), Leads.Parse("-aVR"));
        Assert.Equal(new LeadLabel("II", Inverted: false, Modified: true), Leads.Parse("MLII"));
    }

    [Fact]
    public void Read_CabreraInvertedAvr_FlipsTheSignBack()
    {
        var builder = new Formats.RecordingBuilder("test", 500);
        builder.TryAdd("-aVR", [1f, -2f]);

        var recording = builder.Build("x");

        Assert.Equal([-1f, 2f], recording.Leads["aVR"]);
        Assert.Contains(recording.Warnings, w => w.Contains("inverted", StringComparison.Ordinal));
    }
}
