using System.Diagnostics;
using Ecg2Af.Audit;
using Ecg2Af.Inference.Batch;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.Security;

namespace Ecg2Af.Worker.Predictions;

/// <summary>
/// The audit trail of a batch request: one record per ECG (operation <c>predict-batch</c>), committed before that
/// ECG's answer is written, with the submitter, the record's files and hashes, and its result or error. A request
/// refused as a whole (nothing scored) gets one record for the request. A record whose audit cannot be committed is
/// answered 503 instead of its result (unless <c>Audit:RequireCommit</c> is false).
/// </summary>
internal sealed class BatchAudit(AuditWriter writer, ClientAddress clientAddress)
{
    public const string Operation = "predict-batch";

    /// <summary>What every record of one request shares.</summary>
    public sealed record Context(DateTimeOffset Time, string? ClientIp, string? Name, string? Email, string? Worker, string? KeyId);

    public Context For(HttpContext http, DateTimeOffset time, string? name, string? email) => new(
        AuditRecord.StoreTime(time),
        clientAddress.Resolve(http.Connection.RemoteIpAddress, http.Request.Headers["X-Forwarded-For"])?.ToString(),
        AuditWriter.Clip(name),
        AuditWriter.Clip(email),
        http.Response.Headers[WorkerIdentity.Header].ToString() is { Length: > 0 } worker ? worker : null,
        Caller.KeyIdOf(http));

    /// <summary>Commits the record of one ECG; returns the item to send (a 503 in its place when the commit failed).</summary>
    public async ValueTask<BatchItem> RecordAsync(Context context, BatchItem item)
    {
        var prediction = item.Prediction;
        var model = prediction?.Model;
        var record = new AuditRecord
        {
            RequestId = item.Id,
            Time = context.Time,
            Operation = Operation,
            ClientIp = context.ClientIp,
            Name = context.Name,
            Email = context.Email,
            Files = item.Files.Select(f => new AuditFile(AuditWriter.Clip(f.Name) ?? "", f.Size, f.Sha256 ?? "")).ToList(),
            Format = prediction?.Input.Format,
            ModelName = model?.Name,
            ModelVersion = model?.Version,
            ModelSha256 = model?.Sha256,
            ExecutionProvider = model?.ExecutionProvider,
            Result = prediction is null ? null : AuditWriter.Result(prediction),
            Error = item.Error is { } e ? AuditWriter.Error(e.Title, e.Detail, null) : null,
            StatusCode = item.Status,
            LatencyMs = item.LatencyMs,
            Worker = context.Worker,
            KeyId = context.KeyId,
        };
        if (await writer.CommitAsync(record) || !writer.RequireCommit)
        {
            return item;
        }

        var problem = RecordProblem.Of(StatusCodes.Status503ServiceUnavailable, "Audit trail unavailable",
            "This record could not be recorded in the audit trail, so its result is not returned. Retry it in a few seconds.");
        return item with { Prediction = null, Error = problem, Status = problem.Status };
    }

    /// <summary>Records a request refused before any ECG was scored (one record for the request).</summary>
    public Task RefusedAsync(Context context, IReadOnlyList<AuditFile> parts, int status, string title, string? detail,
        IDictionary<string, string[]>? errors, long started) =>
        writer.CommitAsync(new AuditRecord
        {
            RequestId = Guid.CreateVersion7().ToString("N"),
            Time = context.Time,
            Operation = Operation,
            ClientIp = context.ClientIp,
            Name = context.Name,
            Email = context.Email,
            Files = parts,
            StatusCode = status,
            Error = AuditWriter.Error(title, detail, errors),
            LatencyMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
            Worker = context.Worker,
            KeyId = context.KeyId,
        });
}
