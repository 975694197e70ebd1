using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>Model-input preparation (ecg2af-model.md §2.6): lead mapping, length and rate, quality flags, normalisation.</summary>
public sealed class PreprocessorTests
{
    private static EcgRecording Js() => SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat");

    [Fact]
    public void Prepare_TenSecondsAt500Hz_StacksLeadsInModelOrderAndZScoresOnce()
    {
        var recording = Js();

        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);

        Assert.Equal(60_000, prepared.Data.Length);
        Assert.False(prepared.Resampled || prepared.Cropped || prepared.Padded);
        Assert.Empty(prepared.QualityFlags);
        // One mean and one population std over all 60 000 values.
        var all = Leads.Standard12.SelectMany(l => recording.Leads[l]).Select(v => (double)v).ToArray();
        var mean = all.Average();
        var std = Math.Sqrt(all.Select(v => (v - mean) * (v - mean)).Average());
        Assert.Equal(mean, prepared.Mean, 6);
        Assert.Equal(std, prepared.Std, 6);
        Assert.Equal((recording.Leads["aVL"][123] - mean) / (std + 1e-6), prepared.Data[(123 * 12) + 4], 4);
        // Every cell: row t holds sample t of each lead in model order (the interleave works in 4 × 4 blocks).
        for (var t = 0; t < 5000; t++)
        {
            for (var c = 0; c < 12; c++)
            {
                var expected = (float)((recording.Leads[InputSpec.Ecg2Af.Leads[c]][t] - prepared.Mean) / (prepared.Std + InputSpec.Ecg2Af.Epsilon));
                if (Math.Abs(expected - prepared.Data[(t * 12) + c]) > 1e-5 * Math.Max(1, Math.Abs(expected)))
                {
                    Assert.Fail($"t={t} lead={InputSpec.Ecg2Af.Leads[c]}: {prepared.Data[(t * 12) + c]} against {expected}");
                }
            }
        }
    }

    [Fact]
    public void Prepare_OneEcg_ItsTensorIsAShortLivedObjectNotALargeObjectHeapOne()
    {
        // The repository's runtimeconfig raises the large-object threshold above a 240 kB tensor (Directory.Build.props):
        // on the large object heap every prepared ECG cost page faults and gen2 collections (docs/benchmarks.md).
        var prepared = EcgPreprocessor.Prepare(Js(), InputSpec.Ecg2Af);

        Assert.Equal(240_000, prepared.Data.Length * sizeof(float));
        Assert.Equal(0, GC.GetGeneration(prepared.Data));
    }

    [Fact]
    public void Prepare_EightStoredLeads_DerivesTheLimbLeadsAndSaysSo()
    {
        var prepared = EcgPreprocessor.Prepare(SharedSamples.Read("muse-xml/muse-sinus.xml"), Recordings.RawMillivolts());

        Assert.Equal(["III", "aVR", "aVL", "aVF"], prepared.LeadsDerived);
        Assert.Contains("derived_lead:aVF", prepared.QualityFlags);
        var (i, ii, avf) = (prepared.Data[(777 * 12) + 0], prepared.Data[(777 * 12) + 1], prepared.Data[(777 * 12) + 5]);
        Assert.Equal(ii - (i / 2), avf, 6);
    }

    [Fact]
    public void Prepare_100HzRecord_UpsamplesLinearlyWithEndpointsAligned()
    {
        var recording = SharedSamples.Read("wfdb/00001_lr.hea", "wfdb/00001_lr.dat");
        var lead = recording.Leads["V2"];

        var prepared = EcgPreprocessor.Prepare(recording, Recordings.RawMillivolts());
        float At(int t) => prepared.Data[(t * 12) + 7];

        Assert.Contains("resampled:100Hz->500Hz", prepared.QualityFlags);
        Assert.Equal(lead[0], At(0));
        Assert.Equal(lead[999], At(4999), 6);
        // ml4h: np.interp(linspace(0, 1, 5000), linspace(0, 1, 1000), x); sample 2500 sits at x = 2500 × 999 / 4999.
        var x = 2500 * 999.0 / 4999;
        var k = (int)x;
        Assert.Equal(lead[k] + ((lead[k + 1] - lead[k]) * (x - k)), At(2500), 5);
    }

    [Fact]
    public void Prepare_1000HzRecord_RemovesWhatWouldAliasAndKeepsTheEcgBand()
    {
        // 10 s at 1000 Hz: a 40 Hz wave (ECG band) plus a 430 Hz wave, which 500 Hz cannot hold (it would fold to 70 Hz).
        var t = Enumerable.Range(0, 10_000).Select(i => i / 1000.0).ToArray();
        var clean = t.Select(s => (float)Math.Sin(2 * Math.PI * 40 * s)).ToArray();
        var noisy = t.Select(s => (float)(Math.Sin(2 * Math.PI * 40 * s) + (0.5 * Math.Sin(2 * Math.PI * 430 * s)))).ToArray();
        var leads = Leads.Standard12.ToDictionary(l => l, _ => noisy, StringComparer.Ordinal);
        var recording = new EcgRecording { Format = "test", SampleRateHz = 1000, Leads = leads };

        var prepared = EcgPreprocessor.Prepare(recording, Recordings.RawMillivolts());
        var lead = Enumerable.Range(0, 5000).Select(j => prepared.Data[j * 12]).ToArray();
        var naive = Resampling.Linear(noisy, 5000);
        var expected = Resampling.Linear(clean, 5000);

        Assert.Contains("resampled:1000Hz->500Hz", prepared.QualityFlags);
        // Away from the ends (where the filter sees the edge), the output is the 40 Hz wave alone.
        Assert.InRange(Recordings.MaxAbsDifference(expected.AsSpan(100, 4800), lead.AsSpan(100, 4800)), 0, 0.03);
        Assert.InRange(Recordings.MaxAbsDifference(expected.AsSpan(100, 4800), naive.AsSpan(100, 4800)), 0.3, 1);
    }

    [Fact]
    public void Prepare_LongRecord_UsesTheFirstTenSecondsAndSaysSo()
    {
        var recording = SharedSamples.Read("wfdb/100.hea", "wfdb/100.dat");
        var limb = new Dictionary<string, float[]>(StringComparer.Ordinal)
        {
            ["I"] = recording.Leads["V5"],
            ["II"] = recording.Leads["II"],
        };
        foreach (var v in (string[])["V1", "V2", "V3", "V4", "V5", "V6"])
        {
            limb[v] = recording.Leads["V5"];
        }

        var prepared = EcgPreprocessor.Prepare(Recordings.With(recording, limb), Recordings.RawMillivolts());

        Assert.True(prepared.Cropped);
        Assert.Contains("cropped:1805.556s->10s", prepared.QualityFlags);
        Assert.Contains(prepared.Warnings, w => w.Contains("first 10 s", StringComparison.Ordinal));
        Assert.Equal(recording.Leads["II"][0], prepared.Data[1]);
        Assert.Equal(1805.556, prepared.SourceDurationSeconds, 3);
    }

    [Fact]
    public void Prepare_ShortRecord_IsUnusableAndSaysHowLong()
    {
        var recording = Js();
        var short8s = Recordings.With(recording, recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value[..4000]));

        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(short8s, InputSpec.Ecg2Af));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("8 s long (4000 samples at 500 Hz); the model needs 10 s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_TwoLeadRecord_IsUnusableAndNamesMissingLeads()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(SharedSamples.Read("wfdb/100.hea", "wfdb/100.dat"), InputSpec.Ecg2Af));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
        Assert.Contains("missing: I, III, aVR, aVL, aVF, V1, V2, V3, V4, V6", ex.Message, StringComparison.Ordinal);
        Assert.Contains("leads found: II, V5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_PadPolicyModel_ZeroPadsMillivoltsWithoutNormalising()
    {
        // Another model's input: 30000 samples at 500 Hz in mV, no normalisation, zero-padded at the end.
        var spec = InputSpec.Ecg2Af with { Samples = 30_000, LengthPolicy = LengthPolicy.Pad, Normalization = NormalizationKind.None };
        var recording = Js();

        var prepared = EcgPreprocessor.Prepare(recording, spec);

        Assert.True(prepared.Padded);
        Assert.False(prepared.Resampled);
        Assert.Contains("zero_padded:10s->60s", prepared.QualityFlags);
        Assert.Equal(360_000, prepared.Data.Length);
        Assert.Equal(recording.Leads["V6"][4999], prepared.Data[(4999 * 12) + 11]);
        Assert.All(prepared.Data.AsSpan(5000 * 12).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Prepare_PadPolicyWithLowerRate_ResamplesThenPads()
    {
        var spec = InputSpec.Ecg2Af with { Samples = 30_000, LengthPolicy = LengthPolicy.Pad, Normalization = NormalizationKind.None, Units = "uV" };

        var prepared = EcgPreprocessor.Prepare(SharedSamples.Read("wfdb/00001_lr.hea", "wfdb/00001_lr.dat"), spec);

        Assert.True(prepared.Resampled && prepared.Padded);
        Assert.Equal(-119f, prepared.Data[0], 3); // µV
        Assert.NotEqual(0f, prepared.Data[(4999 * 12) + 1]);
        Assert.Equal(0f, prepared.Data[5000 * 12]);
    }

    [Fact]
    public void Prepare_LeadWithManyInvalidSamples_IsDroppedAndDerivedWhenPossible()
    {
        var recording = Js();
        var leads = recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        Array.Fill(leads["III"], float.NaN, 1000, 1000);
        leads["V1"][10] = float.PositiveInfinity;

        var prepared = EcgPreprocessor.Prepare(Recordings.With(recording, leads), InputSpec.Ecg2Af);

        Assert.Contains("non_finite:III:1000", prepared.QualityFlags);
        Assert.Contains("non_finite:V1:1", prepared.QualityFlags);
        Assert.Equal(["III"], prepared.LeadsDerived);
        Assert.All(prepared.Data, v => Assert.True(float.IsFinite(v)));
        Assert.True(float.IsNaN(leads["III"][1500])); // the caller's arrays are left alone
    }

    [Fact]
    public void Prepare_ChestLeadAllInvalid_IsUnusable()
    {
        var recording = Js();
        var leads = recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value);
        leads["V4"] = Enumerable.Repeat(float.NaN, 5000).ToArray();

        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(Recordings.With(recording, leads), InputSpec.Ecg2Af));

        Assert.Contains("invalid samples: V4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_ClippedLead_IsFlaggedAndRealSamplesAreNot()
    {
        var recording = Js();
        var leads = recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value);
        leads["V2"] = leads["V2"].Select(v => Math.Min(v, 0.2f)).ToArray();

        var clipped = EcgPreprocessor.Prepare(Recordings.With(recording, leads), InputSpec.Ecg2Af);

        Assert.Contains("clipping:V2", clipped.QualityFlags);
        foreach (var sample in (string[])["hl7-aecg/Example_aECG.xml", "muse-xml/muse-sinus.xml", "muse-xml/braveheart_example1.xml", "csv/ECG_12L.csv"])
        {
            Assert.DoesNotContain(EcgPreprocessor.Prepare(SharedSamples.Read(sample), InputSpec.Ecg2Af).QualityFlags, f => f.StartsWith("clipping", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Prepare_ValuesInWrongUnits_FlagsLowAmplitude()
    {
        // Millivolt values under a header that says microvolts come out 1000× too small.
        var leads = Recordings.Twelve(Js());
        var csv = new System.Text.StringBuilder().AppendJoin(',', Leads.Standard12.Select(l => $"{l} (uV)")).Append('\n');
        for (var t = 0; t < 5000; t++)
        {
            csv.AppendJoin(',', Leads.Standard12.Select(l => leads[l][t].ToString(System.Globalization.CultureInfo.InvariantCulture))).Append('\n');
        }

        var recording = EcgReader.Read([new EcgFile("wrong.csv", System.Text.Encoding.ASCII.GetBytes(csv.ToString()))]);
        var prepared = EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af);

        Assert.Contains(prepared.QualityFlags, f => f.StartsWith("amplitude_low", StringComparison.Ordinal));
        Assert.DoesNotContain(EcgPreprocessor.Prepare(Js(), InputSpec.Ecg2Af).QualityFlags, f => f.StartsWith("amplitude", StringComparison.Ordinal));
    }

    [Fact]
    public void Prepare_SwappedLimbLeadLabels_FlagsTheResidual()
    {
        var recording = Js();
        var leads = recording.Leads.ToDictionary(kv => kv.Key, kv => kv.Value);
        (leads["aVL"], leads["aVF"]) = (leads["aVF"], leads["aVL"]);

        var prepared = EcgPreprocessor.Prepare(Recordings.With(recording, leads), InputSpec.Ecg2Af);

        Assert.Contains(prepared.QualityFlags, f => f.StartsWith("lead_residual:aVL", StringComparison.Ordinal));
        Assert.Contains(prepared.QualityFlags, f => f.StartsWith("lead_residual:aVF", StringComparison.Ordinal));
        Assert.DoesNotContain(prepared.QualityFlags, f => f.StartsWith("lead_residual:III", StringComparison.Ordinal));
    }

    [Fact]
    public void Prepare_AllLeadsFlat_IsUnusable()
    {
        var zeros = Leads.Standard12.ToDictionary(l => l, _ => new float[5000], StringComparer.Ordinal);

        var ex = Assert.Throws<EcgFormatException>(() => EcgPreprocessor.Prepare(new EcgRecording { Format = "test", SampleRateHz = 500, Leads = zeros }, InputSpec.Ecg2Af));

        Assert.Equal(EcgErrorKind.Unusable, ex.Kind);
    }

    [Fact]
    public void RobustRange_LoneSpike_DoesNotCount()
    {
        var lead = Enumerable.Range(0, 5000).Select(i => (float)Math.Sin(i / 40.0)).ToArray();
        lead[2500] = 50;

        Assert.Equal(2, QualityChecks.RobustRange(lead), 2);
    }
}
