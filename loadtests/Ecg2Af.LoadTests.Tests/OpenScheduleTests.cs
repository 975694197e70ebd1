using Ecg2Af.LoadTests.Load;

namespace Ecg2Af.LoadTests.Tests;

public class OpenScheduleTests
{
    [Fact]
    public void Offsets_ConstantRate_EvenlySpacedFromTheRateAlone()
    {
        var offsets = OpenSchedule.Offsets(new InjectPhase(10, TimeSpan.FromSeconds(1))).ToList();

        Assert.Equal(10, offsets.Count);
        for (var i = 0; i < offsets.Count; i++)
        {
            Assert.Equal(i * 0.1, offsets[i].TotalSeconds, 9);
        }
    }

    [Fact]
    public void Offsets_RampUp_CountIsTheAreaUnderTheRateAndGapsShrink()
    {
        var phase = new RampInjectPhase(2, 18, TimeSpan.FromSeconds(4));
        var offsets = OpenSchedule.Offsets(phase).ToList();

        // (2 + 18) / 2 × 4 s = 40 requests.
        Assert.Equal(40, offsets.Count);
        Assert.Equal(phase.PlannedRequests, offsets.Count);
        var gaps = offsets.Zip(offsets.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        Assert.All(gaps.Zip(gaps.Skip(1)), pair => Assert.True(pair.Second < pair.First + 1e-12));
        Assert.InRange(gaps[0], 1 / 3.0, 1 / 2.0);
        Assert.InRange(gaps[^1], 1 / 19.0, 1 / 16.0);
    }

    [Fact]
    public void Offsets_RampDown_StillMonotonicAndBounded()
    {
        var offsets = OpenSchedule.Offsets(new RampInjectPhase(10, 0, TimeSpan.FromSeconds(2))).ToList();

        Assert.InRange(offsets.Count, 9, 10);
        Assert.All(offsets.Zip(offsets.Skip(1)), pair => Assert.True(pair.Second > pair.First));
        Assert.All(offsets, o => Assert.InRange(o.TotalSeconds, 0, 2));
    }

    [Fact]
    public void Offsets_MaxRequests_StopsThere()
    {
        Assert.Equal(7, OpenSchedule.Offsets(new InjectPhase(1000, TimeSpan.FromSeconds(10)), maxRequests: 7).Count());
    }

    [Fact]
    public void Offsets_ClosedPhase_Refused()
    {
        Assert.Throws<ArgumentException>(() => OpenSchedule.Offsets(new KeepConstantPhase(4, TimeSpan.FromSeconds(1))).ToList());
    }
}
