using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Ecg2Af.Client;
using Ecg2Af.Inference.Batch;

namespace Ecg2Af.Cli.Predict;

/// <summary>What <c>--url</c> mode sends with every request.</summary>
internal sealed record RemoteSettings(
    string Name, string Email, string? Model, string? Version, string Priority, int RecordsPerRequest, long BytesPerRequest,
    int Parallel, IReadOnlyDictionary<string, string> ReadHints);

/// <summary>
/// Scores through a running gateway (or worker): the records go to <c>POST /api/v1/predictions:batch</c> in requests
/// of at most <see cref="RemoteSettings.RecordsPerRequest"/> records and <see cref="RemoteSettings.BytesPerRequest"/>
/// bytes (under the gateway's body limit), a few requests at once, each answer read as NDJSON while it streams. A
/// request refused for load (503, 429) is retried after its Retry-After; any other refusal stops the run.
/// </summary>
internal sealed class RemoteScoring(Ecg2AfClient client, RemoteSettings settings)
{
    private readonly EcgUploadOptions upload = new()
    {
        Name = settings.Name,
        Email = settings.Email,
        Priority = settings.Priority,
        Model = settings.Model,
        Version = settings.Version,
        Fields = settings.ReadHints,
    };

    public async IAsyncEnumerable<BatchItem> ScoreAsync(IReadOnlyList<BatchRecord> records, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = Chunk(records).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new Queue<(Channel<BatchItem> Items, Task Sending)>();
        var next = 0;
        try
        {
            while (next < chunks.Count || running.Count > 0)
            {
                while (next < chunks.Count && running.Count < settings.Parallel)
                {
                    var items = Channel.CreateUnbounded<BatchItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                    running.Enqueue((items, SendAsync(chunks[next++], items.Writer, stop.Token)));
                }

                var (channel, sending) = running.Peek();
                await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
                {
                    yield return item;
                }

                await sending;
                _ = running.Dequeue();
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var (_, sending) in running)
            {
                try
                {
                    await sending;
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    // The run is ending; its own outcome is what the caller sees.
                }
            }
        }
    }

    private IEnumerable<List<BatchRecord>> Chunk(IReadOnlyList<BatchRecord> records)
    {
        var chunk = new List<BatchRecord>();
        long bytes = 0;
        foreach (var record in records)
        {
            var size = record.Files.Sum(f => f.Length);
            if (chunk.Count > 0 && (chunk.Count >= settings.RecordsPerRequest || bytes + size > settings.BytesPerRequest))
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }

            chunk.Add(record);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private async Task SendAsync(List<BatchRecord> chunk, ChannelWriter<BatchItem> output, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            // The client retries load refusals (503, 429, 502) after their Retry-After and throws for any other.
            var files = chunk.SelectMany(r => r.Files).Select(f => new EcgFile(f.Name, f.ReadAll())).ToList();
            var answered = new bool[chunk.Count];
            try
            {
                await foreach (var item in client.PredictBatchAsync<BatchItem>(files, upload, BatchJson.Options, cancellationToken))
                {
                    if (item.Index < 0 || item.Index >= chunk.Count)
                    {
                        throw new PredictException($"The server answered record {item.Index} of a request of {chunk.Count}.");
                    }

                    answered[item.Index] = true;
                    await output.WriteAsync(Renamed(item, chunk[item.Index]), cancellationToken);
                }
            }
            catch (Ecg2AfApiException e)
            {
                throw new PredictException(e.Message);
            }

            // An answer cut short (a worker that stopped mid-stream): the records it did not reach fail, and a
            // later --resume run scores them.
            for (var i = 0; i < chunk.Count; i++)
            {
                if (!answered[i])
                {
                    var record = chunk[i];
                    var problem = RecordProblem.Of(502, "Answer cut short", "The server's answer ended before this record; run again with --resume.");
                    await output.WriteAsync(new BatchItem
                    {
                        Index = record.Index,
                        Record = record.Name,
                        Id = "",
                        Files = record.Files.Select(f => new BatchFileFacts(f.Name, f.Length, null)).ToList(),
                        Status = problem.Status,
                        Error = problem,
                    }, cancellationToken);
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            output.TryComplete(failure);
        }
    }

    /// <summary>The item as the command names things: its place in the whole run, the record and file names given locally.</summary>
    private static BatchItem Renamed(BatchItem item, BatchRecord record) => item with
    {
        Index = record.Index,
        Record = record.Name,
        Files = item.Files.Select((f, i) => i < record.Files.Count ? f with { Name = record.Files[i].Name } : f).ToList(),
    };
}
