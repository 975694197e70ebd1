using System.Runtime.InteropServices;

namespace Ecg2Af.Ecg.Formats;

/// <summary>Byte-level helpers: streams over uploaded memory, bounded copies.</summary>
internal static class Streams
{
    /// <summary>A read-only stream over the memory, without copying when it is backed by an array.</summary>
    public static MemoryStream Open(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>Reads a whole (decompressing) stream, failing with TooLarge as soon as it passes <paramref name="limit"/> bytes.</summary>
    public static byte[] ReadBounded(Stream source, long limit, string what)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = source.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new EcgFormatException(EcgErrorKind.TooLarge,
                    $"{what} decompresses to more than {limit} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
