using System.Buffers.Binary;
using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// Philips XLI waveform compression (ecg-formats.md §6b; the sierra-ecg-tools wiki describes it). The payload is one
/// chunk per lead: an 8-byte header (compressed size, a 16-bit field that is always 1, the predictor's first term),
/// then LZW with 10-bit codes read most significant bit first. The LZW output holds the high bytes of the lead's
/// 16-bit codes, then their low bytes; the codes are second differences: x[n] = 2·x[n−1] − x[n−2] − p, with p the
/// header's value for n = 2 and code[n−1] − 64 after that.
/// </summary>
internal static class XliCodec
{
    private const int CodeBits = 10;

    /// <summary>The last code that enters the dictionary; 1023 ends a stream.</summary>
    private const int LastCode = (1 << CodeBits) - 2;

    /// <summary>Literal bytes 0–255: codes 0–255 copy from a prefix holding them, so every code is one copy.</summary>
    private const int Literals = 256;

    /// <summary>Slack after the output, so that a short string is copied as one 8-byte word.</summary>
    private const int Slack = 8;

    /// <summary>
    /// Decodes the first <paramref name="leads"/> chunks (later chunks may hold anything and are never touched). Each
    /// lead may hold at most <paramref name="maxSamples"/> samples: the LZW decoder stops with TooLarge as soon as its
    /// output would pass 2 × that many bytes, whatever the stream says.
    /// </summary>
    public static int[][] Decode(ReadOnlySpan<byte> payload, int leads, int maxSamples)
    {
        var result = new int[leads][];
        var at = 0;
        var limit = 2 * maxSamples;

        // The buffer holds the 256 literal bytes, then the output, then the slack; the dictionary's entries 0–255 point at
        // the literals and never change, the others are written by each lead before they are read.
        var buffer = new byte[Literals + limit + Slack];
        var start = new int[LastCode + 1];
        var length = new int[LastCode + 1];
        for (var c = 0; c < Literals; c++)
        {
            buffer[c] = (byte)c;
            start[c] = c;
            length[c] = 1;
        }

        for (var lead = 0; lead < leads; lead++)
        {
            if (payload.Length - at < 8)
            {
                throw Malformed(lead, "the payload ends before its chunk header");
            }

            var size = BinaryPrimitives.ReadInt32LittleEndian(payload[at..]);
            var first = BinaryPrimitives.ReadInt16LittleEndian(payload[(at + 6)..]);
            at += 8;
            if (size < 0 || size > payload.Length - at)
            {
                throw Malformed(lead, string.Create(CultureInfo.InvariantCulture, $"the chunk declares {size} bytes, {payload.Length - at} remain"));
            }

            var written = Lzw(payload.Slice(at, size), buffer, start, length, limit, lead);
            at += size;
            result[lead] = Predict(buffer.AsSpan(Literals, written), first);
        }

        return result;
    }

    /// <summary>
    /// LZW with 10-bit codes, MSB first, codes 0–255 literal bytes, no reset; returns the bytes written (at most
    /// <paramref name="limit"/>, after the literals in <paramref name="buffer"/>). Every dictionary string already sits in
    /// the buffer (a literal, or the previous string plus the next byte), so an entry is its start and length there, and
    /// a code is one copy.
    /// </summary>
    private static int Lzw(ReadOnlySpan<byte> input, byte[] buffer, int[] start, int[] length, int limit, int lead)
    {
        var next = 256;
        int previousStart = -1, previousLength = 0;
        var end = Literals;
        var stop = Literals + limit;
        uint bits = 0;
        var held = 0;
        foreach (var b in input)
        {
            bits = (bits << 8) | b;
            held += 8;
            if (held < CodeBits)
            {
                continue;
            }

            held -= CodeBits;
            var code = (int)((bits >> held) & ((1u << CodeBits) - 1));
            if (code > LastCode)
            {
                break; // end of stream
            }

            int n;
            if (code < next)
            {
                n = length[code];
                if (n > stop - end)
                {
                    throw TooLarge(lead, limit);
                }

                Copy(buffer, start[code], end, n);
            }
            else if (code == next && previousStart >= 0)
            {
                // The one code the decoder cannot know yet: the previous string plus its own first byte.
                n = previousLength + 1;
                if (n > stop - end)
                {
                    throw TooLarge(lead, limit);
                }

                Copy(buffer, previousStart, end, previousLength);
                buffer[end + previousLength] = buffer[previousStart];
            }
            else
            {
                throw Malformed(lead, string.Create(CultureInfo.InvariantCulture, $"LZW code {code} is not defined yet (next is {next})"));
            }

            if (previousStart >= 0 && next <= LastCode)
            {
                // The new entry: the previous string and the first byte of this one, which follows it in the output.
                start[next] = previousStart;
                length[next] = previousLength + 1;
                next++;
            }

            previousStart = end;
            previousLength = n;
            end += n;
        }

        return end - Literals;
    }

    /// <summary>
    /// Copies an earlier string to the end of the output. Up to 8 bytes go as one word: the string lies before
    /// <paramref name="to"/>, the word is read before it is written, and what it writes past the string is overwritten
    /// by the next code or never read (the slack, or bytes past the output's end).
    /// </summary>
    private static void Copy(byte[] buffer, int from, int to, int count)
    {
        if (count <= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(to), BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(from)));
        }
        else
        {
            buffer.AsSpan(from, count).CopyTo(buffer.AsSpan(to));
        }
    }

    private static EcgFormatException TooLarge(int lead, int bytes) => new(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
        $"Philips XLI lead {lead + 1} decompresses to more than the {bytes / 2} samples the document declares."));

    /// <summary>
    /// Joins the high and low byte halves into signed 16-bit codes and runs the second-difference predictor, in one pass
    /// (the predictor's chain of dependent steps hides the joining).
    /// </summary>
    private static int[] Predict(ReadOnlySpan<byte> bytes, short first)
    {
        var n = (bytes.Length + 1) / 2;
        var high = bytes[..n];
        var low = bytes[n..]; // one byte short when the count is odd: the last code's low byte is 0
        var values = new int[n];
        if (n < 3)
        {
            for (var i = 0; i < n; i++)
            {
                values[i] = Code(high, low, i);
            }

            return values;
        }

        // Garbage bytes can make the predictor diverge; it wraps silently (unchecked) and the caller judges the values.
        var x = values[0] = Code(high, low, 0);
        var y = values[1] = Code(high, low, 1);
        int p = first;
        for (var i = 2; i < values.Length; i++)
        {
            var z = unchecked((2 * y) - x - p);
            p = Code(high, low, i) - 64;
            values[i] = z;
            x = y;
            y = z;
        }

        return values;
    }

    private static int Code(ReadOnlySpan<byte> high, ReadOnlySpan<byte> low, int i) =>
        (short)((high[i] << 8) | (i < low.Length ? low[i] : 0));

    private static EcgFormatException Malformed(int lead, string what) =>
        new(EcgErrorKind.Malformed, $"Philips XLI lead {lead + 1}: {what}.");
}
