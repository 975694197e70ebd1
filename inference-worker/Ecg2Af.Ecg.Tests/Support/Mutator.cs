using System.Text;

namespace Ecg2Af.Ecg.Tests.Support;

/// <summary>
/// Deterministic mutations of a file for the fuzz suite: bit flips, byte noise, truncation, splices (inside the file or
/// from another file), inserted and deleted chunks, huge integers written over size fields, and number edits in text.
/// </summary>
internal static class Mutator
{
    private static readonly uint[] HugeWords = [0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 0x0001_0000, 0x00FF_FFFF, 0xFFFF_FFFE];

    private static readonly string[] HugeNumbers =
        ["999999999999", "-1", "0", "NaN", "1e308", "4294967296", "", "-99999999", "2147483648", "0.0000001", "Infinity", "65536"];

    /// <summary>Returns the mutated bytes and a short description of what was done (for failure reports).</summary>
    public static (byte[] Bytes, string What) Mutate(byte[] original, byte[] donor, Random random)
    {
        var bytes = original.ToArray();
        if (bytes.Length == 0)
        {
            return (bytes, "empty");
        }

        switch (random.Next(9))
        {
            case 0:
            {
                var flips = random.Next(1, 9);
                for (var i = 0; i < flips; i++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (bytes, $"flip {flips} bits");
            }

            case 1:
            {
                // Headers decide most: aim half of the noise at the first 1 KiB.
                var count = random.Next(1, 17);
                for (var i = 0; i < count; i++)
                {
                    var at = random.Next(2) == 0 ? random.Next(Math.Min(1024, bytes.Length)) : random.Next(bytes.Length);
                    bytes[at] = (byte)random.Next(256);
                }

                return (bytes, $"noise {count} bytes");
            }

            case 2:
            {
                var length = random.Next(bytes.Length);
                return (bytes[..length], $"truncate at {length}");
            }

            case 3:
            {
                var source = random.Next(2) == 0 ? original : donor;
                var length = Math.Min(random.Next(1, 4096), source.Length);
                var from = random.Next(source.Length - length + 1);
                var to = random.Next(bytes.Length);
                var spliced = bytes[..to].Concat(source.AsSpan(from, length).ToArray()).Concat(bytes[to..]).ToArray();
                return (spliced, $"insert {length} bytes from {(ReferenceEquals(source, original) ? "self" : "donor")}@{from} at {to}");
            }

            case 4:
            {
                var at = random.Next(bytes.Length);
                var length = Math.Min(random.Next(1, 4096), bytes.Length - at);
                return ([.. bytes[..at], .. bytes[(at + length)..]], $"delete {length} bytes at {at}");
            }

            case 5:
            {
                var length = Math.Min(random.Next(4, 8192), bytes.Length);
                var from = random.Next(bytes.Length - length + 1);
                var to = random.Next(bytes.Length - length + 1);
                bytes.AsSpan(from, length).ToArray().CopyTo(bytes.AsSpan(to));
                return (bytes, $"copy {length} bytes {from}->{to}");
            }

            case 6:
            case 7:
            {
                // Huge declared sizes: a 32-bit (or 64-bit) word over what is often a length or count.
                var words = random.Next(1, 4);
                for (var i = 0; i < words && bytes.Length >= 8; i++)
                {
                    var near = Math.Min(bytes.Length - 8, random.Next(2) == 0 ? random.Next(Math.Min(2048, bytes.Length)) : random.Next(bytes.Length));
                    var at = random.Next(2) == 0 ? near & ~3 : near;
                    var value = HugeWords[random.Next(HugeWords.Length)];
                    BitConverter.TryWriteBytes(bytes.AsSpan(Math.Max(0, at)), random.Next(4) == 0 ? (ulong)value << 16 : value);
                }

                return (bytes, $"huge word x{words}");
            }

            default:
                return MutateNumber(bytes, random);
        }
    }

    /// <summary>Replaces a run of digits (in text, or in the ASCII parts of a binary header) by an extreme number.</summary>
    private static (byte[] Bytes, string What) MutateNumber(byte[] bytes, Random random)
    {
        var limit = Math.Min(bytes.Length, 1 << 16);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var at = random.Next(random.Next(2) == 0 ? Math.Min(limit, 2048) : limit);
            var start = at;
            while (start < limit && !char.IsAsciiDigit((char)bytes[start]))
            {
                start++;
            }

            var end = start;
            while (end < limit && (char.IsAsciiDigit((char)bytes[end]) || bytes[end] == '.'))
            {
                end++;
            }

            if (end > start)
            {
                var number = HugeNumbers[random.Next(HugeNumbers.Length)];
                return ([.. bytes[..start], .. Encoding.ASCII.GetBytes(number), .. bytes[end..]], $"number@{start} -> '{number}'");
            }
        }

        bytes[random.Next(bytes.Length)] ^= 0xFF;
        return (bytes, "invert a byte");
    }
}
