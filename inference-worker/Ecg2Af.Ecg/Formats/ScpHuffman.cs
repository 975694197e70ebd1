using System.Buffers.Binary;
using System.Globalization;

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

    /// <summary>Each table's lookup has 2^(longest prefix) entries; this bounds their memory to a few MiB.</summary>
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
        var table = _tables[0];
        var reader = new BitReader(data);
        var i = 0;
        while (i < output.Length)
        {
            if (reader.Remaining <= 0)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"{what} ends after {i} of {output.Length} samples"));
            }

            var peek = reader.Peek(table.Bits);
            var index = table.Lookup[peek];
            if (index < 0)
            {
                throw Malformed($"{what} holds a bit pattern that is not in the Huffman table");
            }

            var code = table.Codes[index];
            reader.Skip(code.Prefix);
            if (!code.Value)
            {
                if (code.BaseValue < 1 || code.BaseValue > _tables.Length)
                {
                    throw Malformed($"{what} switches to Huffman table {code.BaseValue}, which section 2 does not define");
                }

                table = _tables[code.BaseValue - 1];
                continue;
            }

            var extra = code.Total - code.Prefix;
            if (extra == 0)
            {
                output[i++] = code.BaseValue;
                continue;
            }

            if (reader.Remaining < extra)
            {
                throw Malformed($"{what} ends inside a value");
            }

            var raw = reader.Read(extra);
            output[i++] = (int)((long)(raw << (64 - extra)) >> (64 - extra)); // sign-extend the value bits
        }
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

    /// <summary>A lookup over the longest prefix: every bit pattern that starts with a code's prefix maps to that code.</summary>
    private sealed class Table(Code[] codes, int bits, short[] lookup)
    {
        public Code[] Codes { get; } = codes;

        public int Bits { get; } = bits;

        public short[] Lookup { get; } = lookup;

        public static Table Build(Code[] codes)
        {
            var bits = codes.Max(c => c.Prefix);
            var lookup = new short[1 << bits];
            Array.Fill(lookup, (short)-1);
            for (var c = 0; c < codes.Length; c++)
            {
                var shift = bits - codes[c].Prefix;
                var start = codes[c].Bits << shift;
                for (var j = 0; j < 1 << shift; j++)
                {
                    if (lookup[start + j] < 0)
                    {
                        lookup[start + j] = (short)c; // the first of two clashing codes wins
                    }
                }
            }

            return new Table(codes, bits, lookup);
        }
    }

    /// <summary>
    /// Bits most significant first, through a 64-bit window refilled a byte at a time; reading past the end yields
    /// zeros (the caller checks <see cref="Remaining"/>).
    /// </summary>
    private ref struct BitReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private ulong _window;
        private int _held;
        private int _next;
        private long _consumed;

        public readonly long Remaining => (8L * _data.Length) - _consumed;

        public int Peek(int bits)
        {
            Fill();
            return (int)(_window >> (64 - bits));
        }

        public void Skip(int bits)
        {
            _window <<= bits;
            _held -= bits;
            _consumed += bits;
        }

        public ulong Read(int bits)
        {
            Fill();
            var value = _window >> (64 - bits);
            Skip(bits);
            return value;
        }

        /// <summary>Tops the window up to at least 57 bits (past the end with zero bytes).</summary>
        private void Fill()
        {
            while (_held <= 56)
            {
                ulong b = _next < _data.Length ? _data[_next] : 0u;
                _next++;
                _window |= b << (56 - _held);
                _held += 8;
            }
        }
    }
}
