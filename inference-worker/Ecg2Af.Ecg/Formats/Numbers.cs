using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>Number parsing for text formats (CSV cells, aECG digits): a fast path for plain decimals.</summary>
internal static class Numbers
{
    /// <summary>Parses a number; plain decimals take a fast path, anything else goes to <see cref="double.TryParse(string?, out double)"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, bool decimalComma, out double value)
    {
        s = s.Trim();
        value = 0;
        if (s.IsEmpty || s.Length > 40)
        {
            return false;
        }

        if (TryParseCell(s, '\0', decimalComma, out value, out var length) && length == s.Length)
        {
            return true;
        }

        var normal = decimalComma ? s.ToString().Replace(',', '.') : s.ToString();
        return double.TryParse(normal, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    private static readonly double[] Pow10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>
    /// The commonest CSV cell: <c>[-+]digits[.digits]</c> running exactly up to <paramref name="delimiter"/> or the end.
    /// False for anything else (spaces, quotes, exponents, text), which the caller then parses the general way.
    /// </summary>
    public static bool TryParseCell(ReadOnlySpan<char> s, char delimiter, bool decimalComma, out double value, out int length)
    {
        value = 0;
        length = 0;
        var i = 0;
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            i = 1;
        }

        long mantissa = 0;
        var digits = 0;
        var fraction = -1;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsAsciiDigit(c))
            {
                if (digits == 17)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + (c - '0');
                digits++;
                if (fraction >= 0)
                {
                    fraction++;
                }
            }
            else if (c != delimiter && (c == '.' || (decimalComma && c == ',')) && fraction < 0)
            {
                fraction = 0;
            }
            else
            {
                break;
            }
        }

        if (digits == 0 || fraction > 15 || (i < s.Length && s[i] != delimiter))
        {
            return false;
        }

        value = fraction > 0 ? mantissa / Pow10[fraction] : mantissa;
        value = negative ? -value : value;
        length = i;
        return true;
    }

    /// <summary>Parses whitespace-separated numbers; null when a token is not a number.</summary>
    public static List<float>? ParseList(ReadOnlySpan<char> text, Func<double, float> convert)
    {
        var values = new List<float>(text.Length / 3);
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] is ' ' or '\t' or '\r' or '\n')
            {
                i++;
                continue;
            }

            // A plain integer (aECG digits are integers) is read in this loop; anything else by TryParse.
            var start = i;
            var negative = text[i] == '-';
            if (text[i] is '-' or '+')
            {
                i++;
            }

            long number = 0;
            var digits = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && digits < 18)
            {
                number = (number * 10) + (text[i] - '0');
                digits++;
                i++;
            }

            if (digits > 0 && (i == text.Length || text[i] is ' ' or '\t' or '\r' or '\n'))
            {
                values.Add(convert(negative ? -number : number));
                continue;
            }

            var end = text[start..].IndexOfAny(" \t\r\n");
            var token = end < 0 ? text[start..] : text.Slice(start, end);
            if (!TryParse(token, false, out var value))
            {
                return null;
            }

            values.Add(convert(value));
            i = start + token.Length;
        }

        return values;
    }
}
