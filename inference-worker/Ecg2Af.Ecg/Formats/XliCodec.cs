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

    /// <summary>
    /// LZW with 10-bit codes, MSB first, codes 0–255 literal bytes, no reset; returns the bytes written. Every dictionary
    /// string already sits in the output (the previous string plus the next byte), so an entry is its start and length
    /// there, and a code is one block copy.
    /// </summary>
    private static int Lzw(ReadOnlySpan<byte> input, byte[] output, int lead)
    {
        Span<int> start = stackalloc int[LastCode + 1];
        Span<int> length = stackalloc int[LastCode + 1];
        var next = 256;
        int previousStart = -1, previousLength = 0;
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

            int n;
            if (code < 256)
            {
                n = 1;
                if (written >= output.Length)
                {
                    throw TooLarge(lead, output.Length);
                }

                output[written] = (byte)code;
            }
            else if (code < next)
            {
                n = length[code];
                if (n > output.Length - written)
                {
                    throw TooLarge(lead, output.Length);
                }

                output.AsSpan(start[code], n).CopyTo(output.AsSpan(written));
            }
            else if (code == next && previousStart >= 0)
            {
                // The one code the decoder cannot know yet: the previous string plus its own first byte.
                n = previousLength + 1;
                if (n > output.Length - written)
                {
                    throw TooLarge(lead, output.Length);
                }

                output.AsSpan(previousStart, previousLength).CopyTo(output.AsSpan(written));
                output[written + previousLength] = output[previousStart];
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

            previousStart = written;
            previousLength = n;
            written += n;
        }

        return written;
    }

    private static EcgFormatException TooLarge(int lead, int bytes) => new(EcgErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
        $"Philips XLI lead {lead + 1} decompresses to more than the {bytes / 2} samples the document declares."));

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
