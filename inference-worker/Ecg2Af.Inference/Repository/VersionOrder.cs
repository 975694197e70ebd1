namespace Ecg2Af.Inference.Repository;

/// <summary>
/// Orders version names naturally: runs of digits compare as numbers, everything else ordinally, so "2" &lt; "10" and
/// "2021-05-21" &lt; "2024-01-13". The greatest version is the latest.
/// </summary>
public sealed class VersionOrder : IComparer<string>
{
    public static VersionOrder Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var (a, nextI) = DigitRun(x, i);
                var (b, nextJ) = DigitRun(y, j);
                var byValue = CompareDigits(a, b);
                if (byValue != 0)
                {
                    return byValue;
                }

                i = nextI;
                j = nextJ;
                continue;
            }

            var byChar = x[i].CompareTo(y[j]);
            if (byChar != 0)
            {
                return byChar;
            }

            i++;
            j++;
        }

        var byLength = (x.Length - i).CompareTo(y.Length - j);
        return byLength != 0 ? byLength : string.CompareOrdinal(x, y);
    }

    private static (string Digits, int Next) DigitRun(string s, int start)
    {
        var end = start;
        while (end < s.Length && char.IsAsciiDigit(s[end]))
        {
            end++;
        }

        return (s[start..end].TrimStart('0'), end);
    }

    private static int CompareDigits(string a, string b) =>
        a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
}
