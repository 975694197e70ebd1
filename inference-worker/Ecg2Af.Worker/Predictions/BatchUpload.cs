using System.Security.Cryptography;
using System.Text;
using Ecg2Af.Audit;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Batch;
using Ecg2Af.Worker.Uploads;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Ecg2Af.Worker.Predictions;

/// <summary>
/// The body of a batch request, read part by part with <see cref="MultipartReader"/> (never buffered in memory): form
/// fields are kept, every <c>ecg</c> file is spooled to one temporary file (deleted when the request ends) while its
/// SHA-256 is computed, and zips are opened from the spool so their entries become files of the batch. The byte and
/// file limits are checked while reading, so a request is refused (413) before anything is scored.
/// </summary>
internal sealed class BatchUpload : IDisposable
{
    private const int MaxFields = 64;
    private const int MaxFieldBytes = 64 * 1024;

    private readonly FileStream _spool;
    private readonly List<BatchArchive> _archives = [];

    private BatchUpload(FileStream spool) => _spool = spool;

    /// <summary>Form fields (name, email, model, version, priority, reading hints).</summary>
    public Dictionary<string, StringValues> Fields { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The uploaded <c>ecg</c> parts as sent (a zip is one part), for the audit of a refused request.</summary>
    public List<AuditFile> Parts { get; } = [];

    /// <summary>Every file of the batch, zips opened, in upload order.</summary>
    public List<BatchFile> Files { get; } = [];

    public IFormCollection Form => new FormCollection(Fields);

    /// <summary>
    /// Reads the request body. Returns the upload, or the status (400 or 413) and errors keyed by field when the body
    /// as a whole cannot be taken; whatever was read is kept in <paramref name="partial"/> for the audit.
    /// </summary>
    public static async Task<(BatchUpload? Upload, int Status, Dictionary<string, string[]> Errors)> ReadAsync(
        HttpRequest request, BatchOptions options, Action<BatchUpload> partial, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            errors[EcgUploadForm.EcgField] = ["Send multipart/form-data with the ECG files in 'ecg' parts (or one .zip of many records)."];
            return (null, StatusCodes.Status400BadRequest, errors);
        }

        if (request.ContentLength > options.MaxRequestBytes)
        {
            errors[EcgUploadForm.EcgField] = [TooLarge(options)];
            return (null, StatusCodes.Status413PayloadTooLarge, errors);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = options.MaxRequestBytes; // Kestrel then stops a chunked body at the limit too
        }

        Directory.CreateDirectory(options.SpoolPath);
        var spool = new FileStream(Path.Combine(options.SpoolPath, $"ecg2af-batch-{Guid.NewGuid():N}.spool"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        var upload = new BatchUpload(spool);
        partial(upload);
        try
        {
            var status = await upload.ReadPartsAsync(request, boundary, options, errors, cancellationToken);
            if (status is null && upload.Parts.Count == 0)
            {
                errors[EcgUploadForm.EcgField] = ["Attach ECG files in 'ecg' parts (or one .zip of many records)."];
                status = StatusCodes.Status400BadRequest;
            }

            return (status is null ? upload : null, status ?? StatusCodes.Status200OK, errors);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            errors[EcgUploadForm.EcgField] = [TooLarge(options)];
            return (null, StatusCodes.Status413PayloadTooLarge, errors);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException || (e is IOException && !cancellationToken.IsCancellationRequested))
        {
            errors[""] = ["The multipart body could not be read: " + e.Message];
            return (null, StatusCodes.Status400BadRequest, errors);
        }
    }

    public void Dispose()
    {
        foreach (var archive in _archives)
        {
            archive.Dispose();
        }

        _spool.Dispose();
    }

    private static string TooLarge(BatchOptions options) =>
        $"A batch request may carry at most {options.MaxRequestBytes} bytes; send the records in several requests.";

    private async Task<int?> ReadPartsAsync(
        HttpRequest request, string boundary, BatchOptions options, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 };
        // Per part only what planning needs is kept (its WFDB header, whether it is a zip), never its first bytes:
        // thousands of parts must not cost memory in proportion.
        var spooled = new List<(string Name, long Offset, long Length, WfdbHeaderInfo? Header, bool Zip)>();
        var buffer = new byte[1 << 16];
        var head = new byte[EcgUpload.MaxHeaderBytes + 1];
        long total = 0;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var field = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (!disposition.IsFileDisposition())
            {
                if (Fields.Count >= MaxFields)
                {
                    errors[""] = [$"A batch request may carry at most {MaxFields} form fields."];
                    return StatusCodes.Status400BadRequest;
                }

                using var text = new MemoryStream();
                int n;
                while ((n = await section.Body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    text.Write(buffer, 0, n);
                    if (text.Length > MaxFieldBytes)
                    {
                        errors[field] = [$"The field is longer than {MaxFieldBytes} bytes."];
                        return StatusCodes.Status400BadRequest;
                    }
                }

                Fields[field] = StringValues.Concat(Fields.GetValueOrDefault(field), Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length));
                continue;
            }

            if (!field.Equals(EcgUploadForm.EcgField, StringComparison.Ordinal))
            {
                await section.Body.CopyToAsync(Stream.Null, cancellationToken); // files in other fields are not read
                continue;
            }

            if (Parts.Count + 1 > options.MaxFiles)
            {
                errors[EcgUploadForm.EcgField] = [$"A batch request may carry at most {options.MaxFiles} files."];
                return StatusCodes.Status413PayloadTooLarge;
            }

            var name = BatchFile.SafeName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value)
                ?? BatchFile.SafeName(HeaderUtilities.RemoveQuotes(disposition.FileName).Value)
                ?? $"file{Parts.Count + 1}";
            var offset = _spool.Position;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var headLength = 0;
            int read;
            while ((read = await section.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > options.MaxRequestBytes)
                {
                    errors[EcgUploadForm.EcgField] = [TooLarge(options)];
                    return StatusCodes.Status413PayloadTooLarge;
                }

                sha.AppendData(buffer, 0, read);
                var take = Math.Min(read, head.Length - headLength);
                buffer.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                headLength += take;

                await _spool.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            var length = _spool.Position - offset;
            Parts.Add(new AuditFile(name, length, Convert.ToHexStringLower(sha.GetHashAndReset())));
            var first = head.AsSpan(0, headLength);
            spooled.Add((name, offset, length, BatchFile.DetectHeader(first, length), BatchArchive.LooksLikeZip(first)));
        }

        await _spool.FlushAsync(cancellationToken);
        var limits = new BatchLimits(options.MaxFiles, options.MaxDecompressedBytes);
        long declared = 0;
        try
        {
            foreach (var (name, offset, length, header, isZip) in spooled)
            {
                var file = new SegmentBatchFile(_spool.SafeFileHandle, offset, length, name, header);
                if (isZip && BatchArchive.TryOpen(file.OpenStream(), "", limits, Files.Count, declared) is { } zip)
                {
                    _archives.Add(zip.Archive);
                    Files.AddRange(zip.Files);
                    declared += zip.Files.Sum(f => f.Length);
                }
                else if (Files.Count + 1 > options.MaxFiles)
                {
                    throw new BatchLimitException($"A batch request may carry at most {options.MaxFiles} files (zip entries included).");
                }
                else
                {
                    Files.Add(file); // not a zip, or a broken one: reading the record reports what is wrong
                }
            }
        }
        catch (BatchLimitException e)
        {
            errors[EcgUploadForm.EcgField] = [e.Message];
            return StatusCodes.Status413PayloadTooLarge;
        }

        return null;
    }
}
