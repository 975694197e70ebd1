using System.IO.Compression;
using Ecg2Af.Ecg;
using Microsoft.Win32.SafeHandles;

namespace Ecg2Af.Inference.Batch;

/// <summary>
/// One file of a batch job: its name in the upload (a relative path with <c>/</c>), its size, what it names when it is
/// a WFDB header, and a way to read its bytes when its record's turn comes. Contents are never held for the whole job:
/// a record's files are read just before it is scored and dropped after.
/// </summary>
public abstract class BatchFile
{
    protected BatchFile(string name, long length, WfdbHeaderInfo? header)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Length = length;
        Header = header;
    }

    /// <summary>The file's path inside the upload (folders separated by <c>/</c>).</summary>
    public string Name { get; }

    /// <summary>Size in bytes (for a zip entry, the size it declares).</summary>
    public long Length { get; }

    /// <summary>Record name and signal files when the file is a WFDB header; null otherwise.</summary>
    public WfdbHeaderInfo? Header { get; }

    /// <summary>The file's bytes. Throws <see cref="EcgFormatException"/> when they cannot be read (a broken zip entry).</summary>
    public abstract byte[] ReadAll();

    /// <summary>What grouping needs to know of a file that starts with <paramref name="head"/> and is <paramref name="length"/> bytes long.</summary>
    public static WfdbHeaderInfo? DetectHeader(ReadOnlySpan<byte> head, long length) =>
        length <= EcgUpload.MaxHeaderBytes && head.Length == length ? EcgUpload.ReadWfdbHeader(head) : null;

    /// <summary>
    /// A safe relative name for a file the client named: <c>\</c> becomes <c>/</c>, and empty, <c>.</c> and <c>..</c>
    /// segments (and so any absolute or escaping path) are dropped. Null when nothing is left.
    /// </summary>
    public static string? SafeName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var segments = name.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(s => s is not ("." or "..") && !s.Any(char.IsControl))
            .ToArray();
        var safe = string.Join('/', segments);
        return safe.Length == 0 ? null : safe.Length <= 512 ? safe : safe[^512..];
    }
}

/// <summary>A file on disk (the <c>ecg2af predict</c> command).</summary>
public sealed class DiskBatchFile : BatchFile
{
    private readonly string _path;

    private DiskBatchFile(string path, string name, long length, WfdbHeaderInfo? header)
        : base(name, length, header) => _path = path;

    public static DiskBatchFile Open(string path, string name)
    {
        var length = new FileInfo(path).Length;
        WfdbHeaderInfo? header = null;
        if (length <= EcgUpload.MaxHeaderBytes)
        {
            header = DetectHeader(File.ReadAllBytes(path), length);
        }

        return new DiskBatchFile(path, name, length, header);
    }

    public override byte[] ReadAll() => File.ReadAllBytes(_path);
}

/// <summary>
/// A stretch of an open file: an uploaded part spooled to disk by the worker. Reads are positional, so many records'
/// files can be read at once from one handle.
/// </summary>
public sealed class SegmentBatchFile : BatchFile
{
    private readonly SafeFileHandle _handle;
    private readonly long _offset;

    public SegmentBatchFile(SafeFileHandle handle, long offset, long length, string name, WfdbHeaderInfo? header)
        : base(name, length, header)
    {
        ArgumentNullException.ThrowIfNull(handle);
        _handle = handle;
        _offset = offset;
    }

    public override byte[] ReadAll()
    {
        var bytes = new byte[Length];
        var done = 0;
        while (done < bytes.Length)
        {
            var read = RandomAccess.Read(_handle, bytes.AsSpan(done), _offset + done);
            if (read == 0)
            {
                throw new EndOfStreamException($"The spooled upload ended inside '{Name}'.");
            }

            done += read;
        }

        return bytes;
    }

    /// <summary>A read-only, seekable stream over the segment (for opening a spooled zip).</summary>
    public Stream OpenStream() => new SegmentStream(_handle, _offset, Length);

    private sealed class SegmentStream(SafeFileHandle handle, long offset, long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset2, int count) => Read(buffer.AsSpan(offset2, count));

        public override int Read(Span<byte> buffer)
        {
            var left = length - Position;
            if (left <= 0)
            {
                return 0;
            }

            var read = RandomAccess.Read(handle, buffer[..(int)Math.Min(buffer.Length, left)], offset + Position);
            Position += read;
            return read;
        }

        public override long Seek(long offset2, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset2,
                SeekOrigin.Current => Position + offset2,
                _ => length + offset2,
            };
            return Position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset2, int count) => throw new NotSupportedException();
    }
}

/// <summary>Limits on what the files of one batch may expand to.</summary>
/// <param name="MaxFiles">Most files in the batch, zip entries included.</param>
/// <param name="MaxDecompressedBytes">Most bytes all zip entries together may declare.</param>
public sealed record BatchLimits(int MaxFiles, long MaxDecompressedBytes);

/// <summary>The limits of a batch were passed (the whole request is refused, 413).</summary>
public sealed class BatchLimitException(string message) : Exception(message);

/// <summary>
/// A zip of many records, opened once for the job. Its entries are read one record at a time, under a lock (a
/// <see cref="ZipArchive"/> is not safe for concurrent use); an entry never yields more than it declared.
/// </summary>
public sealed class BatchArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly object _gate = new();

    private BatchArchive(ZipArchive zip) => _zip = zip;

    /// <summary>True when <paramref name="head"/> starts like a zip archive.</summary>
    public static bool LooksLikeZip(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] is 3 or 5 && head[3] is 4 or 6;

    /// <summary>
    /// Opens <paramref name="stream"/> (seekable; owned from here on) as a zip and lists its files, named
    /// <paramref name="prefix"/> + their path inside. Returns null (and disposes the stream) when it is not a readable
    /// zip: the caller then treats it as a plain file, whose reading reports what is wrong. Throws
    /// <see cref="BatchLimitException"/> when the archive holds more than <paramref name="limits"/> allow.
    /// </summary>
    public static (BatchArchive Archive, IReadOnlyList<BatchFile> Files)? TryOpen(Stream stream, string prefix, BatchLimits limits, int filesSoFar, long bytesSoFar)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException)
        {
            stream.Dispose();
            return null;
        }

        var archive = new BatchArchive(zip);
        try
        {
            var files = new List<BatchFile>();
            var declared = bytesSoFar;
            foreach (var entry in zip.Entries)
            {
                if (IsJunk(entry.FullName) || SafeName(prefix + entry.FullName) is not { } name)
                {
                    continue;
                }

                if (filesSoFar + files.Count + 1 > limits.MaxFiles)
                {
                    throw new BatchLimitException($"The upload holds more than {limits.MaxFiles} files (zip entries included).");
                }

                declared += entry.Length;
                if (declared > limits.MaxDecompressedBytes)
                {
                    throw new BatchLimitException($"The zip archives of the upload expand to more than {limits.MaxDecompressedBytes} bytes.");
                }

                WfdbHeaderInfo? header = null;
                if (entry.Length <= EcgUpload.MaxHeaderBytes)
                {
                    try
                    {
                        header = BatchFile.DetectHeader(archive.Read(entry, name), entry.Length);
                    }
                    catch (EcgFormatException)
                    {
                        // Reading the record reports it.
                    }
                }

                files.Add(new ZipEntryFile(archive, entry, name, header));
            }

            return (archive, files);
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _zip.Dispose();
        }
    }

    private static string? SafeName(string name) => BatchFile.SafeName(name);

    /// <summary>Directories and the metadata files archivers add (macOS resource forks, Finder and Explorer files).</summary>
    private static bool IsJunk(string path)
    {
        var name = Path.GetFileName(path);
        return name.Length == 0 || name.StartsWith('.') || path.StartsWith("__MACOSX/", StringComparison.Ordinal)
            || name is "Thumbs.db" or "desktop.ini";
    }

    private byte[] Read(ZipArchiveEntry entry, string name)
    {
        lock (_gate)
        {
            try
            {
                using var stream = entry.Open();
                var bytes = new byte[entry.Length];
                var done = 0;
                while (done < bytes.Length)
                {
                    var read = stream.Read(bytes, done, bytes.Length - done);
                    if (read == 0)
                    {
                        break;
                    }

                    done += read;
                }

                if (done < bytes.Length || stream.ReadByte() >= 0)
                {
                    throw new EcgFormatException(EcgErrorKind.Malformed, $"The zip entry '{name}' does not hold the {entry.Length} bytes it declares.");
                }

                return bytes;
            }
            catch (InvalidDataException e)
            {
                throw new EcgFormatException(EcgErrorKind.Malformed, $"The zip entry '{name}' could not be inflated: {e.Message}", e);
            }
        }
    }

    private sealed class ZipEntryFile(BatchArchive archive, ZipArchiveEntry entry, string name, WfdbHeaderInfo? header)
        : BatchFile(name, entry.Length, header)
    {
        public override byte[] ReadAll() => archive.Read(entry, Name);
    }
}
