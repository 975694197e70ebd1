using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ecg2Af.Ecg.Formats;

/// <summary>Number parsing for text formats (CSV cells, aECG digits): a fast path for plain decimals.</summary>
internal static class Numbers
{
    /// <summary>Parses a number; plain decimals take a fast path, anything else goes to <see cref="double.TryParse(string?, out double)"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, bool decimalComma, out double value)
    {
        s = s.Trim();
        value = 0;
        if (s.IsEmpty || s.Length > MaxToken)
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

    /// <summary>The longest text taken as one number.</summary>
    private const int MaxToken = 40;

    private static readonly double[] Pow10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>
    /// The commonest CSV cell: <c>[-+]digits[.digits]</c> running exactly up to <paramref name="delimiter"/> or the end.
    /// False for anything else (spaces, quotes, exponents, text), which the caller then parses the general way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the inner loop of a CSV read: 60,000 cells for a 12-lead ECG
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

        // Integer digits, then (after one decimal point) fraction digits: two tight loops, no state per character.
        long mantissa = 0;
        var start = i;
        while (i < s.Length && (uint)(s[i] - '0') <= 9)
        {
            mantissa = (mantissa * 10) + (s[i] - '0');
            i++;
        }

        var digits = i - start;
        var fraction = 0;
        if (i < s.Length && s[i] != delimiter && (s[i] == '.' || (decimalComma && s[i] == ',')))
        {
            var point = ++i;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                mantissa = (mantissa * 10) + (s[i] - '0');
                i++;
            }

            fraction = i - point;
            digits += fraction;
        }

        // Over 17 digits the mantissa may have wrapped: such a cell is left to the general parser.
        if (digits == 0 || digits > 17 || fraction > 15 || (i < s.Length && s[i] != delimiter))
        {
            return false;
        }

        value = fraction > 0 ? mantissa / Pow10[fraction] : mantissa;
        value = negative ? -value : value;
        length = i;
        return true;
    }

    /// <summary>
    /// Parses whitespace-separated numbers into <c>(float)(origin + scale × number)</c> (a physical value from stored
    /// digits; 0 and 1 for the numbers themselves); null when a token is not a number.
    /// </summary>
    public static float[]? ParseList(ReadOnlySpan<char> text, double origin, double scale) => ParseList<char>(text, origin, scale);

    /// <summary>The same for ASCII bytes (aECG digits read from the file itself, without a copy as characters).</summary>
    public static float[]? ParseList(ReadOnlySpan<byte> ascii, double origin, double scale) => ParseList<byte>(ascii, origin, scale);

    private static float[]? ParseList<T>(ReadOnlySpan<T> text, double origin, double scale)
        where T : unmanaged, IBinaryInteger<T>
    {
        // Tokens are separated by at least one character, so there are at most (length + 1) / 2 of them.
        var buffer = ArrayPool<float>.Shared.Rent((text.Length / 2) + 1);
        Span<char> scratch = stackalloc char[MaxToken]; // a token that is not a plain integer, widened from bytes
        try
        {
            var count = 0;
            var i = 0;
            while (i < text.Length)
            {
                var c = int.CreateTruncating(text[i]);
                if (c is ' ' or '\t' or '\r' or '\n')
                {
                    i++;
                    continue;
                }

                // A plain integer (aECG digits are integers) is read in this loop; anything else by TryParse.
                var start = i;
                var negative = c == '-';
                if (c is '-' or '+')
                {
                    i++;
                }

                long number = 0;
                var digits = 0;
                while (i < text.Length && digits < 18 && (uint)(int.CreateTruncating(text[i]) - '0') <= 9)
                {
                    number = (number * 10) + (int.CreateTruncating(text[i]) - '0');
                    digits++;
                    i++;
                }

                double value;
                if (digits > 0 && (i == text.Length || int.CreateTruncating(text[i]) is ' ' or '\t' or '\r' or '\n'))
                {
                    value = negative ? -number : number;
                }
                else
                {
                    var end = start;
                    while (end < text.Length && int.CreateTruncating(text[end]) is not (' ' or '\t' or '\r' or '\n'))
                    {
                        end++;
                    }

                    if (end - start > MaxToken || !TryParse(Chars(text[start..end], scratch), false, out value))
                    {
                        return null;
                    }

                    i = end;
                }

                buffer[count++] = (float)(origin + (scale * value));
            }

            return buffer.AsSpan(0, count).ToArray();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>A token as characters: itself, or its bytes widened (ASCII) into <paramref name="scratch"/>.</summary>
    private static ReadOnlySpan<char> Chars<T>(ReadOnlySpan<T> token, Span<char> scratch)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (typeof(T) == typeof(char))
        {
            return MemoryMarshal.Cast<T, char>(token);
        }

        for (var i = 0; i < token.Length; i++)
        {
            scratch[i] = (char)int.CreateTruncating(token[i]);
        }

        return scratch[..token.Length];
    }
}
