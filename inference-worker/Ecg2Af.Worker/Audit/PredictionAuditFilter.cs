using System.Diagnostics;
using System.Security.Cryptography;
using Ecg2Af.Audit;
using Ecg2Af.Inference.Scoring;
using Microsoft.AspNetCore.Http.Features;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// Wraps a prediction endpoint: whatever the handler answers (a result, a ProblemDetails, an exception), one audit
/// record is committed before the response is written. When the commit fails the answer becomes 503 and the result is
/// withheld (unless <see cref="AuditOptions.RequireCommit"/> is false). Every audited response carries the record id
/// in <c>X-Ecg2Af-Audit-Id</c>.
/// </summary>
internal sealed class PredictionAuditFilter(AuditWriter writer, ClientAddress clientAddress) : IEndpointFilter
{
    public const string AuditIdHeader = "X-Ecg2Af-Audit-Id";
    public const string Operation = "predict";

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
            await writer.CommitAsync(failed);
            throw;
        }

        var response = (result as IValueHttpResult)?.Value as PredictionResponse;
        var code = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var error = (result as IValueHttpResult)?.Value is Microsoft.AspNetCore.Mvc.ProblemDetails problem
            ? Error(problem.Title, problem.Detail, (problem as HttpValidationProblemDetails)?.Errors)
            : null;
        var record = await DescribeAsync(http, time, started, code, response, error);
        if (await writer.CommitAsync(record) || !writer.RequireCommit)
        {
            return result;
        }

        http.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Audit trail unavailable",
            detail: "This request could not be recorded in the audit trail, so no result is returned. Retry in a few seconds.");
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
            Result = response is null ? null : AuditWriter.Result(response),
            Error = error,
            StatusCode = status,
            LatencyMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
            Worker = http.Response.Headers[WorkerIdentity.Header].ToString() is { Length: > 0 } worker ? worker : null,
        };
    }

    private static string Error(string? title, string? detail, IDictionary<string, string[]>? errors) => AuditWriter.Error(title, detail, errors);

    private static int? ExceptionStatus(Exception e, HttpContext http) => e switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        OperationCanceledException when http.RequestAborted.IsCancellationRequested => 499, // the client hung up
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string? Clip(string? value) => AuditWriter.Clip(value);
}
