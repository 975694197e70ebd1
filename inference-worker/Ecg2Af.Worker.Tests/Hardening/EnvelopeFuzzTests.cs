using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Ecg2Af.LocalCluster;
using Ecg2Af.Worker.Tests.Serving;
using Xunit.Abstractions;

namespace Ecg2Af.Worker.Tests.Hardening;

public sealed class FuzzWorkerFixture(StandInRepository repository) : IAsyncLifetime
{
    internal WorkerProcess Worker { get; private set; } = null!;

    /// <summary>More batch slots than the suite sends at once, so no case is refused as overload (503).</summary>
    public async Task InitializeAsync() => Worker = await WorkerProcess.StartAsync(repository.Root, Settings.Of(("Batch__MaxConcurrentRequests", 8)));

    public async Task DisposeAsync() => await Worker.DisposeAsync();
}

/// <summary>
/// Thousands of seeded mutations of the HTTP envelope (<see cref="HostileEnvelopes"/>) sent straight to a real worker:
/// every answer is a 4xx with a body saying what was wrong (ProblemDetails, or the OIP error object), and afterwards
/// the worker still serves a valid request and has counted no 5xx.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class EnvelopeFuzzTests(FuzzWorkerFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzWorkerFixture>
{
    private const int Seed = 20_261_202;
    private const int Cases = 3000;

    [Fact]
    public async Task HostileEnvelopes_OnlyClientErrors_AndTheWorkerIsUnharmed()
    {
        var worker = fixture.Worker;
        var cases = HostileEnvelopes.Generate(Seed, Cases);
        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var serverErrorsBefore = await worker.MetricAsync("http_request_duration_seconds_count", "code=\"5");
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (envelope, cancellationToken) =>
        {
            var (status, type, body) = await HostileEnvelopes.SendAsync(worker.Client, worker.Url, envelope, cancellationToken: cancellationToken);
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (EnvelopeAnswers.Problem(envelope, status, type, body) is { } problem)
            {
                failures.Enqueue(problem);
            }
        });

        output.WriteLine($"{Cases} envelopes in {clock.ElapsedMilliseconds} ms: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {Cases} answers were not a 4xx with a problem body:\n{string.Join("\n", failures.OrderBy(f => f.StartsWith('5') ? 0 : 1).Take(15))}\nWorker exceptions:\n{string.Join("\n", worker.Process.Output.Split('\n').Where(l => l.Contains(" at Ecg2Af", StringComparison.Ordinal) || l.Contains("Exception:", StringComparison.Ordinal)).Distinct().Take(12))}");

        Assert.False(worker.Process.HasExited);
        using var valid = await worker.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), HostileInputTests.MuseForm());
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        // 5xx the worker counted since the suite began (its readiness probe answered 503 while it started).
        Assert.Equal(serverErrorsBefore, await worker.MetricAsync("http_request_duration_seconds_count", "code=\"5"));
    }
}

/// <summary>What a hostile envelope's answer must look like.</summary>
internal static partial class EnvelopeAnswers
{
    /// <summary>
    /// Null when the answer says what was wrong with a 4xx (ProblemDetails, or the OIP error object), or is a batch's
    /// 200 that streams a 4xx for every record; otherwise a description of what is wrong with the answer.
    /// </summary>
    public static string? Problem(HostileEnvelope envelope, int status, string? type, string body)
    {
        var described = envelope.IsInferenceProtocol
            ? type == "application/json" && body.Contains("\"error\"", StringComparison.Ordinal)
            : type == "application/problem+json" && body.Contains($"\"status\":{status}", StringComparison.Ordinal);
        var ok = status switch
        {
            >= 400 and < 500 => described || status == 429, // 429: the gateway's per-client limit, when the cases go through it
            200 when envelope.Path.EndsWith(":batch", StringComparison.Ordinal) => OnlyRecordErrors(type, body),
            _ => false,
        };
        return ok ? null : $"{status} {type} for {envelope.Description}: {(body.Length > 300 ? body[..300] : body)}";
    }

    /// <summary>Every record of a streamed batch answer failed with a 4xx (the ECG inside is never usable).</summary>
    private static bool OnlyRecordErrors(string? type, string body)
    {
        if (type == "text/csv")
        {
            var rows = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
            return rows.Count > 0 && rows.All(r => r.Split(',') is { Length: > 2 } cells && cells[2].StartsWith('4'));
        }

        var statuses = RecordStatus().Matches(body).Select(m => m.Groups[1].Value).ToList();
        return statuses.Count > 0 && statuses.All(s => s.StartsWith('4'));
    }

    [System.Text.RegularExpressions.GeneratedRegex("\"index\":\\d+,.*?\"status\":(\\d{3})")]
    private static partial System.Text.RegularExpressions.Regex RecordStatus();
}
