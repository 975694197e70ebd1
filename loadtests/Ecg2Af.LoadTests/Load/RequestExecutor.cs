using System.Diagnostics;
using Ecg2Af.LoadTests.Measurement;
using Ecg2Af.LoadTests.Scenarios;

namespace Ecg2Af.LoadTests.Load;

/// <summary>Sends one request, reads the whole answer, and records what happened (a step with its own sender, e.g. gRPC, sends itself).</summary>
public static class RequestExecutor
{
    public const string WorkerHeader = "X-Ecg2Af-Worker";

    public static async Task<Outcome> SendAsync(
        HttpClient client, StepDefinition step, RequestContext context, long scheduledTimestamp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(step);
        if (step.Send is { } send)
        {
            return await send(context, scheduledTimestamp, cancellationToken);
        }

        using var request = step.Build(context);
        long sent = 0;
        if (request.Content is { } content)
        {
            // Buffering here (not on the wire) keeps the measured time to sending and answering.
            await content.LoadIntoBufferAsync(cancellationToken);
            sent = content.Headers.ContentLength ?? 0;
        }

        var sentAt = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var received = await DrainAsync(response, cancellationToken);
            var completed = Stopwatch.GetTimestamp();
            var worker = response.Headers.TryGetValues(WorkerHeader, out var values) ? values.FirstOrDefault() : null;
            var status = (int)response.StatusCode;
            return new Outcome(step.IsOk(status), status, null, scheduledTimestamp, sentAt, completed, sent, received, worker);
        }
        catch (HttpRequestException)
        {
            return new Outcome(false, 0, "transport_error", scheduledTimestamp, sentAt, Stopwatch.GetTimestamp(), sent, 0, null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(false, 0, "timeout", scheduledTimestamp, sentAt, Stopwatch.GetTimestamp(), sent, 0, null);
        }
        catch (OperationCanceledException)
        {
            return new Outcome(false, 0, "cancelled", scheduledTimestamp, sentAt, Stopwatch.GetTimestamp(), sent, 0, null);
        }
        catch (IOException)
        {
            return new Outcome(false, 0, "transport_error", scheduledTimestamp, sentAt, Stopwatch.GetTimestamp(), sent, 0, null);
        }
    }

    private static async Task<long> DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
            }

            return total;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
