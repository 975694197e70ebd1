using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// SCP-ECG section 2 Huffman tables (EN 1064 §5.5): the default table (marked by 19999) or tables defined in the file.
/// Each code structure has a prefix of <c>prefix</c> bits (stored bit-reversed in the file); when the whole code is
/// longer, the remaining bits are the value itself, signed, most significant bit first. A table-mode switch of 0 means
/// "continue with table <c>base value</c>". Decoding is bounded: a lead gets exactly the declared number of samples.
/// </summary>
internal sealed class ScpHuffman
{
    /// <summary>Section 2's marker for the standard's default table.</summary>
    public const int DefaultMarker = 19999;

    private const int MaxPrefixBits = 16;

    /// <summary>Each table's lookup has 2^(longest prefix) entries of 4 bytes; this bounds their memory to 8 MiB.</summary>
    private const int MaxTables = 32;

    private readonly Table[] _tables;

    private ScpHuffman(Table[] tables) => _tables = tables;

    /// <summary>
    /// The standard's default table: 0 → "0"; ±1 … ±8 → "1…10" + a sign bit, one more 1 for each step; then
    /// "1111111110" + an 8-bit value and "1111111111" + a 16-bit value.
    /// </summary>
    public static ScpHuffman Default { get; } = new([BuildDefault()]);

    private static Table BuildDefault()
    {
        var codes = new List<Code> { new(1, 1, true, 0, 0) };
        for (var v = 1; v <= 8; v++)
        {
            var prefix = v + 2;
            var ones = ((1 << v) - 1) << 2; // v ones, then "0", then the sign bit
            codes.Add(new(prefix, prefix, true, v, ones));
            codes.Add(new(prefix, prefix, true, -v, ones | 1));
        }

        codes.Add(new(10, 18, true, 0, 0x3FE));
        codes.Add(new(10, 26, true, 0, 0x3FF));
        return Table.Build([.. codes]);
    }

    /// <summary>Reads section 2's body (after the 16-byte section header).</summary>
    public static ScpHuffman Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            throw Malformed("section 2 ends before the number of tables");
        }

        var count = BinaryPrimitives.ReadUInt16LittleEndian(body);
        if (count == DefaultMarker)
        {
            return Default;
        }

        if (count is 0 or > MaxTables)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"section 2 declares {count} Huffman tables"));
        }

        var at = 2;
        var tables = new Table[count];
        for (var t = 0; t < count; t++)
        {
            if (body.Length - at < 2)
            {
                throw Malformed("section 2 ends inside a table");
            }

            var n = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
            at += 2;
            if (n == 0 || (long)n * 9 > body.Length - at)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"Huffman table {t + 1} declares {n} codes that the section does not hold"));
            }

            var codes = new Code[n];
            for (var c = 0; c < n; c++)
            {
                var s = body.Slice(at, 9);
                int prefix = s[0], total = s[1];
                if (prefix is 0 or > MaxPrefixBits || total < prefix || total - prefix > 32)
                {
                    throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, string.Create(CultureInfo.InvariantCulture,
                        $"SCP-ECG Huffman table {t + 1} has a code of {prefix} prefix bits and {total} bits in all; prefixes of 1 to {MaxPrefixBits} bits with at most 32 value bits are read."));
                }

                var stored = BinaryPrimitives.ReadUInt32LittleEndian(s[5..]);
                codes[c] = new(prefix, total, s[2] != 0, BinaryPrimitives.ReadInt16LittleEndian(s[3..]), (int)Reverse(stored, prefix));
                at += 9;
            }

            tables[t] = Table.Build(codes);
        }

        return new ScpHuffman(tables);
    }

    /// <summary>Decodes exactly <paramref name="output"/>.Length values, and never more, from <paramref name="data"/>.</summary>
    public void Decode(ReadOnlySpan<byte> data, Span<int> output, string what)
    {
        // The hot loop of an SCP read (5,000 codes per lead), so the bit window lives in locals (registers) rather
        // than in a reader struct, and one load of a packed lookup entry gives the whole code. Bits are taken most
        // significant first from a 64-bit window that holds at least 57 of them before each code; past the end it fills
        // with zeros, and the bits remaining (8 × bytes not yet loaded + bits held) say when the data has run out.
        var table = _tables[0];
        var (lookup, shift) = (table.Lookup, 64 - table.Bits);
        ulong window = 0;
        var held = 0;
        var next = 0;
        var i = 0;
        while (i < output.Length)
        {
            if (held <= 56)
            {
                (window, held, next) = Fill(data, window, held, next);
            }

            if (((long)(data.Length - next) << 3) + held <= 0)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"{what} ends after {i} of {output.Length} samples"));
            }

            var entry = lookup[(int)(window >> shift)];
            var prefix = Table.Prefix(entry);
            if (prefix == 0)
            {
                throw Malformed($"{what} holds a bit pattern that is not in the Huffman table");
            }

            window <<= prefix;
            held -= prefix;
            var baseValue = Table.BaseValue(entry);
            if (!Table.IsValue(entry))
            {
                if (baseValue < 1 || baseValue > _tables.Length)
                {
                    throw Malformed($"{what} switches to Huffman table {baseValue}, which section 2 does not define");
                }

                table = _tables[baseValue - 1];
                (lookup, shift) = (table.Lookup, 64 - table.Bits);
                continue;
            }

            var extra = Table.Extra(entry);
            if (extra == 0)
            {
                output[i++] = baseValue;
                continue;
            }

            // At least 57 − 16 = 41 bits are still held, enough for the value's at most 32.
            if (((long)(data.Length - next) << 3) + held < extra)
            {
                throw Malformed($"{what} ends inside a value");
            }

            var raw = window >> (64 - extra);
            window <<= extra;
            held -= extra;
            output[i++] = (int)((long)(raw << (64 - extra)) >> (64 - extra)); // sign-extend the value bits
        }
    }

    /// <summary>
    /// Tops the bit window up to at least 57 bits: eight bytes at once where eight remain (only the whole bytes that fit
    /// are counted; the bits of a byte cut off are ORed in again, in the same place, by the next fill), else a byte at a
    /// time, with zeros past the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong Window, int Held, int Next) Fill(ReadOnlySpan<byte> data, ulong window, int held, int next)
    {
        if (data.Length - next >= 8)
        {
            window |= BinaryPrimitives.ReadUInt64BigEndian(data[next..]) >> held;
            var whole = (64 - held) >> 3;
            return (window, held + (whole << 3), next + whole);
        }

        while (held <= 56)
        {
            ulong b = next < data.Length ? data[next] : 0u;
            next++;
            window |= b << (56 - held);
            held += 8;
        }

        return (window, held, next);
    }

    private static uint Reverse(uint value, int bits)
    {
        uint result = 0;
        for (var i = 0; i < bits; i++)
        {
            result = (result << 1) | ((value >> i) & 1);
        }

        return result;
    }

    private static EcgFormatException Malformed(string what) => new(EcgErrorKind.Malformed, $"SCP-ECG: {what}.");

    private readonly record struct Code(int Prefix, int Total, bool Value, int BaseValue, int Bits);

    /// <summary>
    /// A lookup over the longest prefix: every bit pattern that starts with a code's prefix maps to that code, packed
    /// in one int (see <see cref="Pack"/>); a pattern that starts no code maps to 0 (prefix 0).
    /// </summary>
    private sealed class Table(int bits, int[] lookup)
    {
        public int Bits { get; } = bits;

        public int[] Lookup { get; } = lookup;

        public static Table Build(Code[] codes)
        {
            var bits = codes.Max(c => c.Prefix);
            var lookup = new int[1 << bits];
            foreach (var code in codes)
            {
                var shift = bits - code.Prefix;
                var start = code.Bits << shift;
                for (var j = 0; j < 1 << shift; j++)
                {
                    if (lookup[start + j] == 0)
                    {
                        lookup[start + j] = Pack(code); // the first of two clashing codes wins
                    }
                }
            }

            return new Table(bits, lookup);
        }

        /// <summary>Bits 0–4: prefix length (1–16); 5–10: value bits after it (0–32); 11: a value (not a table switch); 16–31: base value (16-bit).</summary>
        private static int Pack(Code code) =>
            code.Prefix | ((code.Total - code.Prefix) << 5) | (code.Value ? 1 << 11 : 0) | (code.BaseValue << 16);

        public static int Prefix(int entry) => entry & 31;

        public static int Extra(int entry) => (entry >> 5) & 63;

        public static bool IsValue(int entry) => (entry & (1 << 11)) != 0;

        public static int BaseValue(int entry) => entry >> 16;
    }
}
