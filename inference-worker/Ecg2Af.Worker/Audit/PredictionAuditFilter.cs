using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Ecg2Af.Audit;
using Ecg2Af.Inference.Scoring;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// Wraps a prediction endpoint: whatever the handler answers (a result, a ProblemDetails, an exception), one audit
/// record is committed before the response is written. When the commit fails the answer becomes 503 and the result is
/// withheld (unless <see cref="AuditOptions.RequireCommit"/> is false). Every audited response carries the record id
/// in <c>X-Ecg2Af-Audit-Id</c>.
/// </summary>
internal sealed class PredictionAuditFilter(
    IAuditStore store,
    ClientAddress clientAddress,
    IOptions<AuditOptions> options,
    ILogger<PredictionAuditFilter> logger) : IEndpointFilter
{
    public const string AuditIdHeader = "X-Ecg2Af-Audit-Id";
    public const string Operation = "predict";

    private const int MaxTextLength = 512;
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var time = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = await next(context);
        }
        catch (Exception e) when (ExceptionStatus(e, http) is { } status)
        {
            // The exception handler answers; the attempt is still recorded (best effort: no result leaves either way).
            var failed = await DescribeAsync(http, time, started, status, null, Error("Request failed", e.GetType().Name, null));
            await CommitAsync(failed);
            throw;
        }

        var response = (result as IValueHttpResult)?.Value as PredictionResponse;
        var code = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var error = (result as IValueHttpResult)?.Value is Microsoft.AspNetCore.Mvc.ProblemDetails problem
            ? Error(problem.Title, problem.Detail, (problem as HttpValidationProblemDetails)?.Errors)
            : null;
        var record = await DescribeAsync(http, time, started, code, response, error);
        if (await CommitAsync(record) || !options.Value.RequireCommit)
        {
            return result;
        }

        http.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Audit trail unavailable",
            detail: "This request could not be recorded in the audit trail, so no result is returned. Retry in a few seconds.");
    }

    /// <summary>Commits the record; false (logged, counted) when the store did not take it.</summary>
    private async Task<bool> CommitAsync(AuditRecord record)
    {
        using var activity = AuditTelemetry.StartWrite(store.Kind, record.RequestId);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Not the request's token: a client that hangs up is still audited.
            using var timeout = new CancellationTokenSource(options.Value.WriteTimeout);
            await store.WriteAsync(record, timeout.Token);
            AuditTelemetry.Committed(store.Kind, Stopwatch.GetElapsedTime(started));
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            AuditTelemetry.Failed(store.Kind);
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            // The message of a database error names the failure, never the parameter values.
            if (options.Value.RequireCommit)
            {
                logger.WriteFailedRejected(record.RequestId, store.Kind, e.GetType().Name, e.Message);
            }
            else
            {
                logger.WriteFailedServed(record.RequestId, store.Kind, e.GetType().Name, e.Message);
            }

            return false;
        }
    }

    private async Task<AuditRecord> DescribeAsync(
        HttpContext http, DateTimeOffset time, long started, int status, PredictionResponse? response, string? error)
    {
        // The form is only looked at when the handler read it (a body refused as too large is not read again).
        var form = http.Features.Get<IFormFeature>()?.Form;
        var files = new List<AuditFile>();
        foreach (var file in form?.Files.GetFiles("ecg") ?? [])
        {
            await using var content = file.OpenReadStream();
            var sha = await SHA256.HashDataAsync(content, CancellationToken.None);
            files.Add(new AuditFile(Clip(Path.GetFileName(file.FileName)) ?? "", file.Length, Convert.ToHexStringLower(sha)));
        }

        var id = response?.Id ?? Guid.CreateVersion7().ToString("N");
        http.Response.Headers[AuditIdHeader] = id;
        var model = response?.Model;
        return new AuditRecord
        {
            RequestId = id,
            Time = AuditRecord.StoreTime(time),
            Operation = Operation,
            ClientIp = clientAddress.Resolve(http.Connection.RemoteIpAddress, http.Request.Headers["X-Forwarded-For"])?.ToString(),
            Name = Clip(form?["name"].ToString().Trim()),
            Email = Clip(form?["email"].ToString().Trim()),
            Files = files,
            Format = response?.Input.Format,
            ModelName = model?.Name,
            ModelVersion = model?.Version,
            ModelSha256 = model?.Sha256,
            ExecutionProvider = model?.ExecutionProvider,
            Result = response is null ? null : JsonSerializer.Serialize(Summary(response), Json),
            Error = error,
            StatusCode = status,
            LatencyMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
            Worker = http.Response.Headers[WorkerIdentity.Header].ToString() is { Length: > 0 } worker ? worker : null,
        };
    }

    private static ResultSummary Summary(PredictionResponse response)
    {
        var r = response.Result;
        return new ResultSummary(r.AfRisk?.HorizonYears, r.AfRisk?.Probability, r.AfInEcgProbability, r.Sex?.Female, r.AgeYears,
            r.QualityFlags, response.Model.Weights);
    }

    private static string Error(string? title, string? detail, IDictionary<string, string[]>? errors) =>
        JsonSerializer.Serialize(new ErrorSummary(title, detail, errors), Json);

    private static int? ExceptionStatus(Exception e, HttpContext http) => e switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        OperationCanceledException when http.RequestAborted.IsCancellationRequested => 499, // the client hung up
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string? Clip(string? value) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= MaxTextLength ? value : value[..MaxTextLength];

    private sealed record ResultSummary(
        double? HorizonYears, double? AfRisk, double? AfInEcgProbability, double? SexFemale, double? AgeYears,
        IReadOnlyList<string> QualityFlags, string Weights);

    private sealed record ErrorSummary(string? Title, string? Detail, IDictionary<string, string[]>? Errors);
}
