using System.Diagnostics;
using System.Text.Json;
using Ecg2Af.Audit;
using Ecg2Af.Inference.Scoring;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// Commits audit records (with a timeout of its own, so a client that hangs up is still audited), counts and traces
/// each write, and builds the compact result and error summaries. Shared by the single prediction's filter and the
/// batch endpoint, which writes one record per ECG.
/// </summary>
internal sealed class AuditWriter(IAuditStore store, IOptions<AuditOptions> options, ILogger<AuditWriter> logger)
{
    private const int MaxTextLength = 512;
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>True: a request whose record did not commit must not get its result.</summary>
    public bool RequireCommit => options.Value.RequireCommit;

    /// <summary>Commits the record; false (logged, counted) when the store did not take it.</summary>
    public async Task<bool> CommitAsync(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
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

    /// <summary>The compact JSON of a result kept in the audit record (risk, AF in ECG, sex, age, flags, weights).</summary>
    public static string Result(PredictionResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var r = response.Result;
        return JsonSerializer.Serialize(new ResultSummary(r.AfRisk?.HorizonYears, r.AfRisk?.Probability, r.AfInEcgProbability, r.Sex?.Female,
            r.AgeYears, r.QualityFlags, response.Model.Weights), Json);
    }

    /// <summary>The compact JSON of an error answer (title, detail, field errors).</summary>
    public static string Error(string? title, string? detail, IDictionary<string, string[]>? errors) =>
        JsonSerializer.Serialize(new ErrorSummary(title, detail, errors), Json);

    /// <summary>Text as stored: null when empty, at most 512 characters.</summary>
    public static string? Clip(string? value) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= MaxTextLength ? value : value[..MaxTextLength];

    private sealed record ResultSummary(
        double? HorizonYears, double? AfRisk, double? AfInEcgProbability, double? SexFemale, double? AgeYears,
        IReadOnlyList<string> QualityFlags, string Weights);

    private sealed record ErrorSummary(string? Title, string? Detail, IDictionary<string, string[]>? Errors);
}
