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

    /// <summary>
    /// Decodes the first <paramref name="leads"/> chunks (later chunks may hold anything and are never touched). Each
    /// lead may hold at most <paramref name="maxSamples"/> samples: the LZW decoder stops with TooLarge as soon as its
    /// output would pass 2 × that many bytes, whatever the stream says.
    /// </summary>
    public static int[][] Decode(ReadOnlySpan<byte> payload, int leads, int maxSamples)
    {
        var result = new int[leads][];
        var at = 0;
        var output = new byte[2 * maxSamples];
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

            var written = Lzw(payload.Slice(at, size), output, lead);
            at += size;
            result[lead] = Predict(output.AsSpan(0, written), first);
        }

        return result;
    }

    /// <summary>LZW with 10-bit codes, MSB first, codes 0–255 literal bytes, no reset; returns the bytes written.</summary>
    private static int Lzw(ReadOnlySpan<byte> input, byte[] output, int lead)
    {
        Span<short> prefix = stackalloc short[LastCode + 1];
        Span<byte> last = stackalloc byte[LastCode + 1];
        Span<byte> head = stackalloc byte[LastCode + 1];
        Span<short> length = stackalloc short[LastCode + 1];
        for (var c = 0; c < 256; c++)
        {
            prefix[c] = -1;
            last[c] = (byte)c;
            head[c] = (byte)c;
            length[c] = 1;
        }

        var next = 256;
        var previous = -1;
        var written = 0;
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

            int entry;
            if (code < next)
            {
                entry = code;
            }
            else if (code == next && previous >= 0 && next <= LastCode)
            {
                // The one code the decoder cannot know yet: the previous string plus its own first byte.
                prefix[next] = (short)previous;
                last[next] = head[previous];
                head[next] = head[previous];
                length[next] = (short)(length[previous] + 1);
                entry = next++;
                previous = -1; // already added
            }
            else
            {
                throw Malformed(lead, string.Create(CultureInfo.InvariantCulture, $"LZW code {code} is not defined yet (next is {next})"));
            }

            var n = length[entry];
            if (n > output.Length - written)
            {
                throw new EcgFormatException(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"Philips XLI lead {lead + 1} decompresses to more than the {output.Length / 2} samples the document declares."));
            }

            for (int i = n - 1, e = entry; i >= 0; i--, e = prefix[e])
            {
                output[written + i] = last[e];
            }

            written += n;
            if (previous >= 0 && next <= LastCode)
            {
                prefix[next] = (short)previous;
                last[next] = head[entry];
                head[next] = head[previous];
                length[next] = (short)(length[previous] + 1);
                next++;
            }

            previous = entry;
        }

        return written;
    }

    /// <summary>Joins the high and low byte halves into signed 16-bit codes and runs the second-difference predictor.</summary>
    private static int[] Predict(ReadOnlySpan<byte> bytes, short first)
    {
        var n = (bytes.Length + 1) / 2;
        var values = new int[n];
        for (var i = 0; i < n; i++)
        {
            var low = n + i < bytes.Length ? bytes[n + i] : 0;
            values[i] = (short)((bytes[i] << 8) | low);
        }

        if (n < 3)
        {
            return values;
        }

        // Garbage bytes can make the predictor diverge; it wraps silently (unchecked) and the caller judges the values.
        var x = values[0];
        var y = values[1];
        int p = first;
        for (var i = 2; i < n; i++)
        {
            var z = unchecked((2 * y) - x - p);
            p = values[i] - 64;
            values[i] = z;
            x = y;
            y = z;
        }

        return values;
    }

    private static EcgFormatException Malformed(int lead, string what) =>
        new(EcgErrorKind.Malformed, $"Philips XLI lead {lead + 1}: {what}.");
}
