using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Tests.Serving;

public sealed class BatchCostsTests
{
    /// <summary>Records <see cref="BatchCosts.MinSamples"/> + 1 runs (the first is not counted) at each size.</summary>
    private static void Measure(BatchCosts costs, int items, double secondsPerItem)
    {
        for (var run = 0; run <= BatchCosts.MinSamples; run++)
        {
            costs.Record(items, secondsPerItem * items);
        }
    }

    [Fact]
    public void Cap_SameCostPerItemAtEverySize_FallsToTheSmallestSizeMeasured()
    {
        // A CPU core running one single-threaded session: 40 ms per ECG whatever the batch (±2 %).
        var costs = new BatchCosts(16, 0.05);
        Measure(costs, 4, 0.0400);
        Assert.Equal(16, costs.Cap);
        Measure(costs, 2, 0.0405);
        Assert.Equal(2, costs.Cap);
        Measure(costs, 1, 0.0398);
        Assert.Equal(1, costs.Cap);
        Measure(costs, 8, 0.0392);
        Assert.Equal(1, costs.Cap);
    }

    [Fact]
    public void Cap_CheaperPerItemInLargerBatches_StaysAtTheMaximum()
    {
        // A GPU: a run costs about the same at any size, so the time per item falls with the batch.
        var costs = new BatchCosts(16, 0.05);
        foreach (var items in new[] { 1, 2, 4, 8 })
        {
            Measure(costs, items, 0.006 / items);
        }

        Assert.Equal(16, costs.Cap);
    }

    [Fact]
    public void Cap_GainStopsPartWay_CapsWhereTheNextSizeSavesLessThanTheGain()
    {
        var costs = new BatchCosts(16, 0.05);
        Measure(costs, 1, 0.050);
        Measure(costs, 2, 0.049);  // 2 % cheaper than 1: not worth a wait
        Measure(costs, 4, 0.046);  // 8 % cheaper than 1
        Measure(costs, 8, 0.045);  // 2 % cheaper than 4
        Measure(costs, 16, 0.0445);
        Assert.Equal(4, costs.Cap);
    }

    [Fact]
    public void Record_FirstRunAtASize_IsNotCounted()
    {
        // The first run at a shape can include one-off work (cuDNN's algorithm search, a first allocation).
        var costs = new BatchCosts(16, 0.05);
        costs.Record(8, 8 * 5.0);
        Assert.Equal(1, costs.Runs(8));
        Assert.Equal(0, costs.SecondsPerItem(8));

        costs.Record(8, 8 * 0.04);
        Assert.Equal(0.04, costs.SecondsPerItem(8), 12);
    }

    [Fact]
    public void Record_CostsChangeLater_CapFollowsThem()
    {
        var costs = new BatchCosts(16, 0.05);
        Measure(costs, 1, 0.04);
        Measure(costs, 4, 0.04);
        Assert.Equal(1, costs.Cap);

        // Batches of 4 turn much cheaper (other work left the cores, a faster kernel): the moving average follows.
        var changed = false;
        for (var run = 0; run < 30; run++)
        {
            changed |= costs.Record(4, 4 * 0.02);
        }

        Assert.True(changed);
        Assert.Equal(16, costs.Cap);
    }

    [Theory]
    [InlineData(0, 0.05)]
    [InlineData(16, -0.1)]
    [InlineData(16, 1.5)]
    public void Constructor_OutOfRange_Throws(int maxBatchSize, double gain) =>
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new BatchCosts(maxBatchSize, gain));

    [Fact]
    public void Record_ImpossibleRuns_Ignored()
    {
        var costs = new BatchCosts(4, 0.05);
        Assert.False(costs.Record(0, 1));
        Assert.False(costs.Record(5, 1));
        Assert.False(costs.Record(2, double.NaN));
        Assert.False(costs.Record(2, -1));
        Assert.Equal(0, costs.Runs(2));
    }
}
