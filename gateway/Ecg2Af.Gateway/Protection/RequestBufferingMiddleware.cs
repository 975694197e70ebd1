using System.Buffers;
using Ecg2Af.Gateway.Observability;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Gateway.Protection;

/// <summary>
/// Enforces the body size limit (413 before any worker sees a byte) and buffers the whole body, in memory up to
/// <see cref="LimitsOptions.MemoryBufferBytes"/> and in a temporary file beyond, so that failover can send it again.
/// </summary>
internal sealed class RequestBufferingMiddleware(RequestDelegate next, IOptions<LimitsOptions> options, GatewayMetrics metrics)
{
    private readonly LimitsOptions _limits = options.Value;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            await next(context);
            return;
        }

        if (request.ContentLength > _limits.MaxRequestBodyBytes)
        {
            await TooLargeAsync(context);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Kestrel then stops a chunked upload as soon as it passes the limit.
            sizeFeature.MaxRequestBodySize = _limits.MaxRequestBodyBytes;
        }

        // No buffer limit here: the loop below counts, so an oversized chunked upload is stopped at the limit.
        request.EnableBuffering(_limits.MemoryBufferBytes);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                total += read;
                if (total > _limits.MaxRequestBodyBytes)
                {
                    await TooLargeAsync(context);
                    return;
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await TooLargeAsync(context);
            return;
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // The client went away mid-upload.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        request.Body.Position = 0;
        await next(context);
    }

    private Task TooLargeAsync(HttpContext context)
    {
        metrics.Rejected(RejectionReason.BodyTooLarge);
        return GatewayProblems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"The gateway accepts request bodies of at most {_limits.MaxRequestBodyBytes} bytes.");
    }
}
