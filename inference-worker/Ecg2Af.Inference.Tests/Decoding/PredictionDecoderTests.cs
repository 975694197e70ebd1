using Ecg2Af.Inference.Decoding;

namespace Ecg2Af.Inference.Tests.Decoding;

public class PredictionDecoderTests
{
    private static readonly ModelSignature Signature2021 = new()
    {
        Name = "ecg2af",
        Version = "1",
        Input = Ecg2AfHeads.Input(),
        Outputs = Ecg2AfHeads.Outputs2021,
        Provenance = new Provenance { Weights = Provenance.StandIn, Source = "test" },
    };

    /// <summary>Raw outputs for one ECG: survival y[i] = 0.99 for the 25 trained bins and 0.5 for the untrained rest.</summary>
    private static float[][] Outputs(float survival = 0.99f, float female = 0.25f, float ageZ = 0.5f, float afInRead = 0.1f) =>
    [
        [.. Enumerable.Repeat(survival, 25), .. Enumerable.Repeat(0.5f, 25)],
        [female, 1 - female],
        [ageZ],
        [1 - afInRead, afInRead],
    ];

    [Fact]
    public void Decode_Survival_RiskIsOneMinusProductOfFirst25Bins()
    {
        var result = PredictionDecoder.Decode(Signature2021, Outputs(survival: 0.99f));

        // 1 − 0.99^25 computed by hand: 0.99^25 = 0.777821…, so the risk is 0.222178…
        var y = (double)0.99f;
        var expected = 1 - Math.Pow(y, 25);
        Assert.Equal(expected, result.AfRisk!.Probability, 12);
        Assert.InRange(result.AfRisk.Probability, 0.2221, 0.2223);
        Assert.Equal(5.0, result.AfRisk.HorizonYears);
    }

    [Fact]
    public void Decode_Survival_CurveHas25NonIncreasingPointsAt73DayBins()
    {
        float[] y = [.. Enumerable.Range(0, 25).Select(i => 1f - (0.001f * i)), .. Enumerable.Repeat(0.1f, 25)];
        var outputs = Outputs();
        outputs[0] = y;

        var curve = PredictionDecoder.Decode(Signature2021, outputs).SurvivalCurve!;

        Assert.Equal(25, curve.Count);
        Assert.Equal(73, curve[0].Day);
        Assert.Equal(1825, curve[^1].Day);
        Assert.Equal((double)y[0], curve[0].AfFreeProbability, 12);
        Assert.Equal((double)y[0] * y[1], curve[1].AfFreeProbability, 12);
        for (var k = 1; k < curve.Count; k++)
        {
            Assert.True(curve[k].AfFreeProbability <= curve[k - 1].AfFreeProbability);
        }
    }

    [Fact]
    public void Decode_SurvivalNearOne_ProductInDoubleKeepsSmallRisk()
    {
        // y = 0.9999 per bin: in float32 arithmetic 1 − Π loses most digits; in double it is 0.0024970…
        var result = PredictionDecoder.Decode(Signature2021, Outputs(survival: 0.9999f));

        Assert.Equal(1 - Math.Pow(0.9999f, 25), result.AfRisk!.Probability, 12);
    }

    [Fact]
    public void Decode_SexHead_FirstChannelIsFemale()
    {
        var sex = PredictionDecoder.Decode(Signature2021, Outputs(female: 0.25f)).Sex!;

        Assert.Equal(0.25, sex.Female, 6);
        Assert.Equal(0.75, sex.Male, 6);
    }

    [Theory]
    [InlineData(0.6131459f, 0.38685414f)] // a real stand-in softmax pair whose float32 sum is not exactly 1
    [InlineData(0.1f, 0.9f)]
    [InlineData(0.3f, 0.70000005f)]
    public void Decode_SexHead_ProbabilitiesSumToExactlyOneInFloat64(float female, float male)
    {
        var sex = PredictionDecoder.Sex(female, male);

        Assert.Equal(1.0, sex.Female + sex.Male);
        Assert.Equal(female / ((double)female + male), sex.Female, 15);
    }

    [Fact]
    public void Decode_AgeHead_AppliesUkBiobankAffine()
    {
        var age = PredictionDecoder.Decode(Signature2021, Outputs(ageZ: -0.29f)).AgeYears!.Value;

        // The ml4h notebook's example: z = −0.29 is about 61.1 years.
        Assert.Equal((-0.29f * 7.554638350423902) + 63.35798891483556, age, 9);
        Assert.InRange(age, 61.1, 61.2);
    }

    [Fact]
    public void Decode_AfInReadHigh_FlagsIncidentRiskAsNotValid()
    {
        var low = PredictionDecoder.Decode(Signature2021, Outputs(afInRead: 0.1f));
        var high = PredictionDecoder.Decode(Signature2021, Outputs(afInRead: 0.8f));

        Assert.Equal(0.1, low.AfInEcgProbability!.Value, 6);
        Assert.DoesNotContain(PredictionDecoder.AfPresentFlag, low.QualityFlags);
        Assert.Contains(PredictionDecoder.AfPresentFlag, high.QualityFlags);
    }

    [Fact]
    public void Decode_SecondBatchItem_ReadsItsOwnSlice()
    {
        var first = Outputs(survival: 0.99f, female: 0.2f, ageZ: 0f, afInRead: 0.1f);
        var second = Outputs(survival: 0.95f, female: 0.7f, ageZ: 1f, afInRead: 0.3f);
        float[][] batch = [.. first.Zip(second, (a, b) => (float[])[.. a, .. b])];

        var result = PredictionDecoder.Decode(Signature2021, batch, index: 1);

        Assert.Equal(1 - Math.Pow(0.95f, 25), result.AfRisk!.Probability, 12);
        Assert.Equal(0.7, result.Sex!.Female, 6);
        Assert.Equal(7.554638350423902 + 63.35798891483556, result.AgeYears!.Value, 6);
    }

    [Fact]
    public void Decode_2024Heads_TenYearHorizonAndDeathRisk()
    {
        var signature = Signature2021 with { Outputs = Ecg2AfHeads.Outputs2024 };
        float[] survival = [.. Enumerable.Repeat(0.99f, 25), .. Enumerable.Repeat(0.5f, 25)];
        float[] death = [.. Enumerable.Repeat(0.98f, 25), .. Enumerable.Repeat(0.5f, 25)];

        var result = PredictionDecoder.Decode(signature, [survival, [0.4f, 0.6f], death, [1.5f], [0.9f, 0.1f]]);

        Assert.Equal(10.0, result.AfRisk!.HorizonYears);
        Assert.Equal(146.1, result.SurvivalCurve![0].Day, 6);
        Assert.Equal(1 - Math.Pow(0.98f, 25), result.DeathRisk!.Probability, 12);
        Assert.Null(result.AgeYears);
        Assert.Equal(1.5, result.OtherOutputs![Ecg2AfHeads.AgeDays2024][0], 6);
    }

    [Fact]
    public void Decode_MultilabelHead_ReportsEachLabel()
    {
        var signature = Signature2021 with
        {
            Outputs = [new SignatureOutput { Name = "dense", Size = 3, Kind = HeadKind.Multilabel, Role = HeadRole.Labels, Labels = ["AF", "RBBB", "Normal"] }],
        };

        var result = PredictionDecoder.Decode(signature, [[0.4f, 0.5f, 0.01f]]);

        Assert.Equal(0.5, result.Labels!["RBBB"], 6);
        Assert.Equal(0.4, result.Labels["AF"], 6);
        Assert.Null(result.AfRisk);
    }
}
