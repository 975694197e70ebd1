using System.Diagnostics;
using System.Security.Cryptography;
using Ecg2Af.Audit;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Worker.InferenceProtocol;
using Ecg2Af.Worker.Security;
using Microsoft.AspNetCore.Http.Features;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// Wraps an inference endpoint (single prediction, OIP infer, preprocess): whatever the handler answers (a result, a
/// ProblemDetails, an OIP error, an exception), one audit record is committed before the response is written. When
/// the commit fails the answer becomes 503 and the result is withheld (unless <see cref="AuditOptions.RequireCommit"/>
/// is false). A handler that writes its response itself (OIP infer) commits first through
/// <see cref="AuditScope.CommitBeforeResponseAsync"/>. Every audited response carries the record id in
/// <c>X-Ecg2Af-Audit-Id</c>; the record names the caller's API key id, or the form's name and email.
/// </summary>
internal sealed class PredictionAuditFilter(AuditWriter writer, ClientAddress clientAddress)
{
    public const string AuditIdHeader = "X-Ecg2Af-Audit-Id";
    public const string Operation = "predict";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, string operation)
    {
        var http = context.HttpContext;
        var scope = new AuditScope(this, operation, DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());
        http.Features.Set(scope);
        object? result;
        try
        {
            result = await next(context);
        }
        catch (Exception e) when (ExceptionStatus(e, http) is { } status)
        {
            // The exception handler answers; the attempt is still recorded (best effort: no result leaves either way).
            if (!scope.Committed)
            {
                await writer.CommitAsync(await DescribeAsync(http, scope, status, null, Error("Request failed", e.GetType().Name, null)));
            }

            throw;
        }

        if (scope.Committed)
        {
            return result; // the handler wrote its answer after committing
        }

        var value = (result as IValueHttpResult)?.Value;
        var code = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var error = value switch
        {
            Microsoft.AspNetCore.Mvc.ProblemDetails problem => Error(problem.Title, problem.Detail, (problem as HttpValidationProblemDetails)?.Errors),
            ProtocolError protocol => Error(null, protocol.Error, null),
            _ => null,
        };
        if (await CommitAsync(http, scope, code, value as PredictionResponse, error) || !writer.RequireCommit)
        {
            return result;
        }

        return Unavailable(http);
    }

    /// <summary>
    /// Opens the audit record of a request whose handler is not an endpoint with <c>WithAudit</c> (the gRPC ModelInfer):
    /// the handler then commits it through <see cref="AuditScope.CommitBeforeResponseAsync"/> or <see cref="AuditScope.CommitFailureAsync"/>.
    /// </summary>
    public AuditScope Begin(HttpContext http, string operation)
    {
        var scope = new AuditScope(this, operation, DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());
        http.Features.Set(scope);
        return scope;
    }

    /// <summary>Commits the scope's record now; false when it did not commit.</summary>
    internal async Task<bool> CommitAsync(HttpContext http, AuditScope scope, int status, PredictionResponse? response, string? error)
    {
        scope.Committed = true;
        return await writer.CommitAsync(await DescribeAsync(http, scope, status, response, error));
    }

    internal bool RequireCommit => writer.RequireCommit;

    /// <summary>The 503 that replaces a result whose record did not commit.</summary>
    public static IResult Unavailable(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Audit trail unavailable",
            detail: "This request could not be recorded in the audit trail, so no result is returned. Retry in a few seconds.");
    }

    private async Task<AuditRecord> DescribeAsync(HttpContext http, AuditScope scope, int status, PredictionResponse? response, string? error)
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
            Time = AuditRecord.StoreTime(scope.Time),
            Operation = scope.Operation,
            ClientIp = clientAddress.Resolve(http.Connection.RemoteIpAddress, http.Request.Headers["X-Forwarded-For"])?.ToString(),
            Name = Clip(form?["name"].ToString().Trim()),
            Email = Clip(form?["email"].ToString().Trim()),
            Files = files,
            Format = response?.Input.Format ?? scope.Format,
            ModelName = model?.Name ?? scope.Target?.ModelName,
            ModelVersion = model?.Version ?? scope.Target?.ModelVersion,
            ModelSha256 = model?.Sha256 ?? scope.Target?.Model.OnnxSha256,
            ExecutionProvider = model?.ExecutionProvider ?? scope.Target?.ExecutionProvider,
            Result = response is null ? null : AuditWriter.Result(response),
            Error = error,
            StatusCode = status,
            LatencyMs = Math.Round(Stopwatch.GetElapsedTime(scope.Started).TotalMilliseconds, 3),
            Worker = http.Response.Headers[WorkerIdentity.Header].ToString() is { Length: > 0 } worker ? worker : null,
            KeyId = Caller.KeyIdOf(http),
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

/// <summary>
/// The audit record of the request in progress (an HttpContext feature set by <see cref="PredictionAuditFilter"/>):
/// handlers add what they learn (the model version, the input format) and, when they write the response
/// themselves, commit the record first.
/// </summary>
internal sealed class AuditScope(PredictionAuditFilter filter, string operation, DateTimeOffset time, long started)
{
    public string Operation { get; } = operation;

    public DateTimeOffset Time { get; } = time;

    public long Started { get; } = started;

    public bool Committed { get; set; }

    /// <summary>The model version that served (or refused) the request.</summary>
    public ServedVersion? Target { get; set; }

    public string? Format { get; set; }

    public static AuditScope? Of(HttpContext http) => http.Features.Get<AuditScope>();

    /// <summary>
    /// Commits the record of a successful answer before the handler writes it. False: not committed and
    /// <c>Audit:RequireCommit</c> is on, so the handler must answer 503 (see <see cref="PredictionAuditFilter.Unavailable"/>)
    /// instead of the result.
    /// </summary>
    public async Task<bool> CommitBeforeResponseAsync(HttpContext http, int status) =>
        await filter.CommitAsync(http, this, status, null, null) || !filter.RequireCommit;

    /// <summary>Records a request that was not served (its HTTP-equivalent status and why), unless already recorded.
    /// Best effort: no result leaves either way.</summary>
    public async Task CommitFailureAsync(HttpContext http, int status, string reason)
    {
        if (!Committed)
        {
            await filter.CommitAsync(http, this, status, null, AuditWriter.Error(null, reason, null));
        }
    }
}
