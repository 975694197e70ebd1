namespace Ecg2Af.Ecg.Tests;

/// <summary>The resampler's contract: ml4h's endpoint-aligned linear interpolation up, an anti-aliased path down.</summary>
public sealed class ResamplingTests
{
    [Fact]
    public void ToCount_SameLength_ReturnsTheSamples()
    {
        float[] lead = [1, 2, 5, -3, 0.5f];

        Assert.Equal(lead, Resampling.ToCount(lead, 5));
    }

    [Fact]
    public void Linear_Upsampling_MatchesNumpyInterpWithAlignedEndpoints()
    {
        // np.interp(np.linspace(0, 1, 7), np.linspace(0, 1, 3), [0, 10, 4]) = [0, 3.333, 6.667, 10, 8, 6, 4]
        var result = Resampling.Linear([0f, 10f, 4f], 7);

        Assert.Equal([0f, 3.3333333f, 6.6666665f, 10f, 8f, 6f, 4f], result);
    }

    [Fact]
    public void LowPass_ConstantSignal_KeepsItsLevel()
    {
        var flat = Enumerable.Repeat(2.5f, 1000).ToArray();

        Assert.All(Resampling.LowPass(flat, 0.2, 0.05), v => Assert.Equal(2.5f, v, 5));
    }

    [Theory]
    [InlineData(20, 1.0)]
    [InlineData(450, 0.0)]
    public void LowPass_CutoffAt200HzOf1000Hz_PassesTheBandAndStopsAbove(double hz, double expectedGain)
    {
        var wave = Enumerable.Range(0, 4000).Select(i => (float)Math.Sin(2 * Math.PI * hz * i / 1000)).ToArray();

        var filtered = Resampling.LowPass(wave, 0.2, 0.05);
        var gain = filtered.AsSpan(500, 3000).ToArray().Max(Math.Abs);

        Assert.Equal(expectedGain, gain, 2);
    }
}
