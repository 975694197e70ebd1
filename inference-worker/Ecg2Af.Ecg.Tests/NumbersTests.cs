using Ecg2Af.Ecg.Formats;

namespace Ecg2Af.Ecg.Tests;

/// <summary>The text-number fast paths must agree with double.Parse and hand anything unusual to it.</summary>
public sealed class NumbersTests
{
    [Theory]
    [InlineData("50,-100", ',', false, 50.0, 2)]
    [InlineData("-0.0244;1", ';', false, -0.0244, 7)]
    [InlineData("0,0244;1", ';', true, 0.0244, 6)]
    [InlineData("+7", ',', false, 7.0, 2)]
    [InlineData("12345678901234567", ',', false, 12345678901234567.0, 17)]
    public void TryParseCell_PlainNumberUpToTheDelimiter_ParsesIt(string text, char delimiter, bool decimalComma, double expected, int length)
    {
        Assert.True(Numbers.TryParseCell(text, delimiter, decimalComma, out var value, out var used));
        Assert.Equal(expected, value, 12);
        Assert.Equal(length, used);
    }

    [Theory]
    [InlineData(" 5,1")]
    [InlineData("\"5\",1")]
    [InlineData("1e3,1")]
    [InlineData("-,1")]
    [InlineData("5 ,1")]
    [InlineData("NaN,1")]
    [InlineData(",1")]
    public void TryParseCell_AnythingElse_IsLeftToTheGeneralParser(string text)
    {
        Assert.False(Numbers.TryParseCell(text, ',', false, out _, out _));
    }

    [Fact]
    public void ParseList_MixedTokens_MatchesDoubleParse()
    {
        var values = Numbers.ParseList(" -2 17\n\t0 +4 2.5 1e2 -0.125 ", 0, 1)!;

        Assert.Equal([-2f, 17f, 0f, 4f, 2.5f, 100f, -0.125f], values);
        Assert.Null(Numbers.ParseList("1 2 x 4", 0, 1));
    }

    [Fact]
    public void ParseList_OriginAndScale_GiveThePhysicalValueOfEachDigit()
    {
        // aECG: physical = origin + scale × digit, computed in double and rounded once to float.
        var values = Numbers.ParseList("-3 0 12 1.5", 0.1, 0.005)!;

        Assert.Equal([(float)(0.1 + (0.005 * -3)), (float)0.1, (float)(0.1 + (0.005 * 12)), (float)(0.1 + (0.005 * 1.5))], values);
        Assert.Empty(Numbers.ParseList(" \n ", 0.1, 0.005)!);
    }
}
