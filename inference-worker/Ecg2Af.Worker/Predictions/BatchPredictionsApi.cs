using System.Diagnostics;
using Ecg2Af.Inference.Batch;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Security;
using Ecg2Af.Worker.OpenApi;
using Ecg2Af.Worker.Security;
using Ecg2Af.Worker.Serving;
using Ecg2Af.Worker.Uploads;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Predictions;

/// <summary>
/// <c>POST /api/v1/predictions:batch</c> (docs/batch.md): many ECG records in one multipart request (several
/// <c>ecg</c> parts, or zips of many records), each scored through the batcher in the batch lane and answered in input
/// order as soon as it is done, as a JSON array, NDJSON (<c>Accept: application/x-ndjson</c>) or CSV
/// (<c>Accept: text/csv</c>). Limits on records and bytes are checked before anything is scored (413).
/// </summary>
internal static class BatchPredictionsApi
{
    public const string RecordsHeader = "X-Ecg2Af-Batch-Records";
    private const string InvalidTitle = "The batch request is incomplete or invalid";

    public static IEndpointRouteBuilder MapBatchPredictionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/predictions:batch", BatchAsync)
            .DisableAntiforgery()
            .WithName("PredictBatch")
            .WithTags("Predictions")
            .WithSummary("Score many ECG records in one request")
            .WithDescription("Several ecg parts or zips of many records; each record is scored in the batch lane and answered " +
                "in input order as soon as it is done (docs/batch.md). A record that fails is an item with its status and a " +
                "ProblemDetails-shaped error; the request as a whole fails only before the first answer.")
            .WithFormBody(FormFields.Batch)
            .WithParameters([new DocumentedParameter("format", Microsoft.OpenApi.ParameterLocation.Query,
                "json (default), ndjson (also jsonl) or csv; without it the Accept header decides."), .. EndpointDocs.AdmissionHeaders])
            .Produces<IReadOnlyList<BatchItem>>(StatusCodes.Status200OK, "application/json")
            .ProducesProblems(400, 404, 413, 503)
            .RequireApiKey(ApiKeyScopes.Predict)
            .WithRequestEnvelope();
        return app;
    }

    /// <summary>JSON array unless the client asks for NDJSON or CSV (Accept header, or <c>?format=</c>).</summary>
    public static BatchFormat Negotiate(HttpRequest request)
    {
        var asked = request.Query["format"].ToString().Trim().ToLowerInvariant();
        if (asked.Length > 0)
        {
            return asked switch
            {
                "csv" => BatchFormat.Csv,
                "ndjson" or "jsonl" => BatchFormat.Ndjson,
                _ => BatchFormat.Json,
            };
        }

        var accept = request.Headers.Accept.ToString();
        return accept.Contains("text/csv", StringComparison.OrdinalIgnoreCase) ? BatchFormat.Csv
            : accept.Contains("ndjson", StringComparison.OrdinalIgnoreCase) || accept.Contains("jsonl", StringComparison.OrdinalIgnoreCase) ? BatchFormat.Ndjson
            : BatchFormat.Json;
    }

    private static async Task<IResult> BatchAsync(
        HttpContext http,
        ModelCatalog models,
        InferenceScheduler scheduler,
        BatchScorer scorer,
        BatchGate gate,
        BatchAudit audit,
        IOptions<BatchOptions> batchOptions,
        IOptions<SchedulerOptions> serving,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var time = DateTimeOffset.UtcNow;
        var logger = loggers.CreateLogger(typeof(BatchPredictionsApi));
        var request = http.Request;
        var options = batchOptions.Value;
        using var inProgress = BatchMetrics.Track();
        BatchUpload? upload = null;
        try
        {
            // Answers a request refused as a whole: one audit record for it, a ProblemDetails for the client.
            async Task<IResult> RefuseAsync(IResult problem, int status, string title, string? detail, IDictionary<string, string[]>? errors = null)
            {
                var fields = upload?.Fields;
                await audit.RefusedAsync(audit.For(http, time, fields?.GetValueOrDefault("name").ToString().Trim(), fields?.GetValueOrDefault("email").ToString().Trim()),
                    upload?.Parts ?? [], status, title, detail, errors, started);
                BatchMetrics.Request("refused");
                logger.BatchRefused(status, title);
                return problem;
            }

            if (!gate.TryEnter())
            {
                http.Response.Headers.RetryAfter = "5";
                const string busy = "Too many batch requests at once";
                var detail = $"This worker serves {options.MaxConcurrentRequests} batch requests at once; retry in a few seconds.";
                return await RefuseAsync(TypedResults.Problem(detail, statusCode: 503, title: busy), 503, busy, detail);
            }

            try
            {
                ServingMetrics.Parsed("predictions_batch");
                var (read, status, errors) = await BatchUpload.ReadAsync(request, options, u => upload = u, cancellationToken);
                if (read is null)
                {
                    return await RefuseAsync(status == StatusCodes.Status413PayloadTooLarge
                        ? TypedResults.Problem(string.Join(" ", errors.Values.SelectMany(v => v)), statusCode: status, title: "Batch upload too large")
                        : TypedResults.ValidationProblem(errors, title: InvalidTitle), status, status == 413 ? "Batch upload too large" : InvalidTitle, null, errors);
                }

                var form = read.Form;
                var name = form["name"].ToString().Trim();
                var email = form["email"].ToString().Trim();
                PredictionForm.ValidateSubmitter(name, email, errors);
                var readOptions = EcgUploadForm.ParseReadOptions(request, form, errors);
                var priorityText = EcgUploadForm.Value(request, form, "priority")
                    ?? (request.Headers[AdmissionReader.PriorityHeader].ToString().Trim().Length == 0 ? Priority.Batch.Name() : null);
                if (!AdmissionReader.TryRead(request, priorityText, null, serving.Value, started, out var admission, out var invalid))
                {
                    errors[invalid.Field] = [invalid.Message];
                }

                if (errors.Count > 0)
                {
                    return await RefuseAsync(TypedResults.ValidationProblem(errors, title: InvalidTitle), 400, InvalidTitle, null, errors);
                }

                var records = BatchPlanner.Plan(read.Files);
                if (records.Count > options.MaxRecords)
                {
                    const string tooMany = "Too many records";
                    var detail = $"The upload holds {records.Count} records; a batch request may hold at most {options.MaxRecords}. Send them in several requests.";
                    return await RefuseAsync(TypedResults.Problem(detail, statusCode: 413, title: tooMany), 413, tooMany, detail);
                }

                if (scheduler.IsDraining)
                {
                    http.Response.Headers.RetryAfter = "1";
                    const string draining = "Worker shutting down";
                    const string detail = "The worker is shutting down and takes no new work; retry on another worker.";
                    return await RefuseAsync(TypedResults.Problem(detail, statusCode: 503, title: draining), 503, draining, detail);
                }

                var resolution = models.Acquire(EcgUploadForm.Value(request, form, "model"), EcgUploadForm.Value(request, form, "version"));
                if (resolution.Lease is null)
                {
                    var problem = ServingProblems.Problem(http.Response, resolution);
                    var code = ServingProblems.Status(resolution.Status);
                    return await RefuseAsync(problem, code, code == 404 ? "Model not found" : "Model not ready", resolution.Message);
                }

                using var lease = resolution.Lease;
                var context = audit.For(http, time, name, email);
                var job = new BatchJob
                {
                    Records = records,
                    Version = lease.Version,
                    ReadOptions = readOptions,
                    Priority = admission.Priority,
                    RecordTimeout = admission.Timeout,
                    QueueWait = options.QueueWait,
                    Window = options.Window,
                    Completed = (item, _) => audit.RecordAsync(context, item),
                    Failed = (record, e) => logger.InferenceFailed(lease.Version.ModelName, lease.Version.ModelVersion, e),
                };
                await StreamAsync(http, job, scorer, audit, context, logger, started, cancellationToken);
                return Results.Empty;
            }
            finally
            {
                gate.Exit();
            }
        }
        finally
        {
            upload?.Dispose();
        }
    }

    /// <summary>Writes each record's answer as it completes, in input order; audits the records a departed client left behind.</summary>
    private static async Task StreamAsync(
        HttpContext http, BatchJob job, BatchScorer scorer, BatchAudit audit, BatchAudit.Context context, ILogger logger, long started,
        CancellationToken cancellationToken)
    {
        var format = Negotiate(http.Request);
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = BatchWriter.ContentType(format);
        response.Headers.CacheControl = "no-store";
        response.Headers[RecordsHeader] = job.Records.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var model = job.Version;
        logger.BatchStarted(job.Records.Count, format, job.Priority.Name(), model.ModelName, model.ModelVersion);

        var answered = new bool[job.Records.Count];
        var failed = 0;
        var writer = new BatchWriter(response.Body, format);
        try
        {
            await writer.StartAsync(cancellationToken);
            await foreach (var item in scorer.ScoreAsync(job with { Completed = Audited(job.Completed!, answered) }, cancellationToken))
            {
                BatchMetrics.Record(item.Status);
                if (item.Succeeded)
                {
                    ServingMetrics.Completed(model.ModelName, model.ModelVersion, "predictions_batch", TimeSpan.FromMilliseconds(item.LatencyMs));
                }
                else
                {
                    failed++;
                    if (item.Status is 400 or 413 or 415 or 422)
                    {
                        ServingMetrics.InvalidInput(model.ModelName, model.ModelVersion, job.Priority);
                    }
                }

                await writer.WriteAsync(item, cancellationToken);
            }

            await writer.CompleteAsync(cancellationToken);
            BatchMetrics.Request("completed");
            logger.BatchFinished(job.Records.Count, failed, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or IOException)
        {
            // The client left: the records in flight left the queue. Every record still gets its one audit record.
            var left = 0;
            for (var i = 0; i < answered.Length; i++)
            {
                if (!Volatile.Read(ref answered[i]))
                {
                    left++;
                    var record = job.Records[i];
                    var problem = RecordProblem.Of(499, "Client closed the request", "The client went away before this record was scored.");
                    await audit.RecordAsync(context, new BatchItem
                    {
                        Index = record.Index,
                        Record = record.Name,
                        Id = Guid.CreateVersion7().ToString("N"),
                        Files = record.Files.Select(f => new BatchFileFacts(f.Name, f.Length, null)).ToList(),
                        Status = 499,
                        Error = problem,
                    });
                    BatchMetrics.Record(499);
                }
            }

            BatchMetrics.Request("client_closed");
            logger.BatchAbandoned(job.Records.Count, left);
        }
    }

    /// <summary>Marks each record whose audit record was written, then runs the audit.</summary>
    private static Func<BatchItem, CancellationToken, ValueTask<BatchItem>> Audited(
        Func<BatchItem, CancellationToken, ValueTask<BatchItem>> audit, bool[] answered) =>
        async (item, cancellationToken) =>
        {
            var result = await audit(item, cancellationToken);
            Volatile.Write(ref answered[item.Index], true);
            return result;
        };
}

/// <summary>Bounds the batch requests a worker serves at once (<see cref="BatchOptions.MaxConcurrentRequests"/>).</summary>
internal sealed class BatchGate(IOptions<BatchOptions> options)
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentRequests, options.Value.MaxConcurrentRequests);

    public bool TryEnter() => _slots.Wait(0);

    public void Exit() => _slots.Release();
}

internal static partial class BatchLog
{
    // Never the submitter's name or email, nor file names (which may carry patient identifiers).
    [LoggerMessage(EventId = 210, Level = LogLevel.Information,
        Message = "Batch of {Records} record(s) started: {Format}, priority {Priority}, model {Model}/{Version}")]
    public static partial void BatchStarted(this ILogger logger, int records, BatchFormat format, string priority, string model, string version);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "Batch of {Records} record(s) finished: {Failed} failed, {TotalMs} ms")]
    public static partial void BatchFinished(this ILogger logger, int records, int failed, double totalMs);

    [LoggerMessage(EventId = 212, Level = LogLevel.Information, Message = "Batch refused: {Status} {Title}")]
    public static partial void BatchRefused(this ILogger logger, int status, string title);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning,
        Message = "Batch of {Records} record(s) abandoned by its client; {Left} record(s) were not answered (audited as 499)")]
    public static partial void BatchAbandoned(this ILogger logger, int records, int left);
}
