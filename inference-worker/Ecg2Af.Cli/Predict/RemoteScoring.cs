using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Ecg2Af.Inference.Batch;

namespace Ecg2Af.Cli.Predict;

/// <summary>What <c>--url</c> mode sends with every request.</summary>
internal sealed record RemoteSettings(
    Uri BaseUrl, string Name, string Email, string? Model, string? Version, string Priority, int RecordsPerRequest, long BytesPerRequest,
    int Parallel, IReadOnlyDictionary<string, string> ReadHints);

/// <summary>
/// Scores through a running gateway (or worker): the records go to <c>POST /api/v1/predictions:batch</c> in requests
/// of at most <see cref="RemoteSettings.RecordsPerRequest"/> records and <see cref="RemoteSettings.BytesPerRequest"/>
/// bytes (under the gateway's body limit), a few requests at once, each answer read as NDJSON while it streams. A
/// request refused for load (503, 429) is retried after its Retry-After; any other refusal stops the run.
/// </summary>
internal sealed class RemoteScoring(HttpClient http, RemoteSettings settings)
{
    private const int MaxAttempts = 6;

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
            for (var attempt = 1; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.BaseUrl, "api/v1/predictions:batch")) { Content = Content(chunk) };
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
                    && attempt < MaxAttempts)
                {
                    var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(Math.Min(30, 1 << attempt));
                    await Task.Delay(wait, cancellationToken);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new PredictException($"The server refused the batch ({(int)response.StatusCode}): {Describe(await response.Content.ReadAsStringAsync(cancellationToken))}");
                }

                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                using var reader = new StreamReader(stream);
                var answered = new bool[chunk.Count];
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.Length == 0)
                    {
                        continue;
                    }

                    var item = JsonSerializer.Deserialize<BatchItem>(line, BatchJson.Options)
                        ?? throw new PredictException("The server sent an empty batch item.");
                    if (item.Index < 0 || item.Index >= chunk.Count)
                    {
                        throw new PredictException($"The server answered record {item.Index} of a request of {chunk.Count}.");
                    }

                    answered[item.Index] = true;
                    await output.WriteAsync(Renamed(item, chunk[item.Index]), cancellationToken);
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

                return;
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

    private MultipartFormDataContent Content(List<BatchRecord> chunk)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(settings.Name), "name" },
            { new StringContent(settings.Email), "email" },
            { new StringContent(settings.Priority), "priority" },
        };
        if (settings.Model is not null)
        {
            form.Add(new StringContent(settings.Model), "model");
        }

        if (settings.Version is not null)
        {
            form.Add(new StringContent(settings.Version), "version");
        }

        foreach (var (key, value) in settings.ReadHints)
        {
            form.Add(new StringContent(value), key);
        }

        foreach (var file in chunk.SelectMany(r => r.Files))
        {
            var part = new ByteArrayContent(file.ReadAll());
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "ecg", file.Name);
        }

        return form;
    }

    private static string Describe(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var parts = new List<string>();
            foreach (var key in (string[])["title", "detail"])
            {
                if (root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    parts.Add(value.GetString()!);
                }
            }

            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                parts.AddRange(errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(m => $"{e.Name}: {m.GetString()}")));
            }

            return parts.Count > 0 ? string.Join(" ", parts) : body;
        }
        catch (JsonException)
        {
            return body.Length > 300 ? body[..300] : body;
        }
    }
}
