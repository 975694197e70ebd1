using System.Globalization;
using System.Text.Json;
using Ecg2Af.Audit;
using Ecg2Af.Security;
using Ecg2Af.Worker.OpenApi;
using Ecg2Af.Worker.Security;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Ecg2Af.Worker.Audit;

/// <summary>
/// <c>GET /api/v1/audit</c>: audit records for administrators, as JSON or CSV. Needs an API key with the
/// <c>admin</c> scope (<c>Security:ApiKeys</c>), verified by the gateway or, on a direct call, by this worker.
/// Filters: <c>from</c> and <c>to</c> (ISO 8601, from inclusive, to exclusive), <c>limit</c>, <c>format</c>
/// (<c>json</c> or <c>csv</c>, or <c>Accept: text/csv</c>), and the email in the <c>X-Audit-Email</c> header: never
/// in the URL, where proxies and access logs would keep it.
/// </summary>
internal static class AuditApi
{
    public const string EmailHeader = "X-Audit-Email";

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var email = new DocumentedParameter(EmailHeader, ParameterLocation.Header,
            "Only the records of this email address (never in the URL, where proxies and access logs would keep it).", Format: "email");
        app.MapGet("/api/v1/audit", QueryAsync)
            .WithName("AuditQuery")
            .WithTags("Audit")
            .WithSummary("Audit records, for administrators")
            .WithDescription("Newest first, as JSON or CSV (format=csv or Accept: text/csv). X-Audit-Truncated says whether the page was cut at limit.")
            .WithParameters(
                new("from", ParameterLocation.Query, "Records at or after this time (ISO 8601).", Format: "date-time"),
                new("to", ParameterLocation.Query, "Records before this time (ISO 8601).", Format: "date-time"),
                new("limit", ParameterLocation.Query, "At most this many records (1 to Audit:MaxQueryRecords, the default).", JsonSchemaType.Integer),
                new("format", ParameterLocation.Query, "json (default) or csv."),
                email)
            .Produces<AuditPage>(StatusCodes.Status200OK)
            .ProducesProblems(400, 503)
            .RequireApiKey(ApiKeyScopes.Admin);
        app.MapPost("/api/v1/audit/erasures", EraseAsync)
            .WithName("AuditErase")
            .WithTags("Audit")
            .WithSummary("Erase every audit record of one email address")
            .WithDescription("The address comes in the X-Audit-Email header or a JSON body, never the URL. The erasure itself is " +
                "recorded, without the address. Idempotent: erasing again is safe and recorded too.")
            .WithParameters(email)
            .WithJsonBody<EraseRequest>("The address to erase, when not in the X-Audit-Email header.", optional: true)
            .Produces<EraseResult>(StatusCodes.Status200OK)
            .ProducesProblems(400, 503)
            .RequireApiKey(ApiKeyScopes.Admin);
        return app;
    }

    private static async Task<IResult> QueryAsync(
        HttpContext http, IAuditStore store, IOptions<AuditOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(AuditApi));
        var settings = options.Value;
        http.Response.Headers.CacheControl = "no-store";
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = http.Request.Query;
        if (query.ContainsKey("email"))
        {
            errors["email"] = [$"Send the email filter in the {EmailHeader} header, not in the URL (URLs end up in proxy and access logs)."];
        }

        var from = Time(query["from"], "from", errors);
        var to = Time(query["to"], "to", errors);
        var limit = settings.MaxQueryRecords;
        if (query["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > settings.MaxQueryRecords))
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {settings.MaxQueryRecords}."];
        }

        var format = query["format"].ToString() is { Length: > 0 } f ? f.ToLowerInvariant()
            : http.Request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "json";
        if (format is not ("json" or "csv"))
        {
            errors["format"] = ["format must be json or csv."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The audit query is invalid");
        }

        var email = http.Request.Headers[EmailHeader].ToString().Trim();
        IReadOnlyList<AuditRecord> records;
        try
        {
            // One more than asked, to tell the caller whether the page was cut.
            records = await store.QueryAsync(new AuditQuery(from, to, email.Length > 0 ? email : null, limit + 1), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.QueryFailed(store.Kind, e.GetType().Name, e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit store unavailable",
                detail: "The audit store could not be read. Retry shortly.");
        }

        var truncated = records.Count > limit;
        var page = truncated ? records.Take(limit).ToList() : records;
        http.Response.Headers["X-Audit-Truncated"] = truncated ? "true" : "false";
        if (format == "csv")
        {
            var csv = new StringWriter(CultureInfo.InvariantCulture);
            await AuditCsv.WriteAsync(csv, page, cancellationToken);
            http.Response.Headers.ContentDisposition = "attachment; filename=\"ecg2af-audit.csv\"";
            return TypedResults.Text(csv.ToString(), "text/csv; charset=utf-8");
        }

        return TypedResults.Ok(new AuditPage(page.Count, truncated, page.Select(AuditEntry.From).ToList()));
    }

    /// <summary>
    /// <c>POST /api/v1/audit/erasures</c> (the same <c>admin</c> scope as the query): deletes every record of one email address (header <c>X-Audit-Email</c> or
    /// JSON body <c>{"email": "…"}</c>, never the URL) and records the erasure itself, without the address.
    /// Idempotent: a second call erases nothing and is recorded too.
    /// </summary>
    private static async Task<IResult> EraseAsync(
        HttpContext http, IAuditStore store, IOptions<AuditOptions> options, ClientAddress clientAddress, TimeProvider time,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(AuditApi));
        http.Response.Headers.CacheControl = "no-store";
        var started = time.GetTimestamp();
        if (http.Request.Query.ContainsKey("email"))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["email"] = [$"Send the address in the {EmailHeader} header or the JSON body, not in the URL (URLs end up in proxy and access logs)."] },
                title: "The erasure request is invalid");
        }

        var email = http.Request.Headers[EmailHeader].ToString().Trim();
        if (email.Length == 0 && http.Request.HasJsonContentType())
        {
            try
            {
                var body = await http.Request.ReadFromJsonAsync<EraseRequest>(cancellationToken);
                email = body?.Email?.Trim() ?? string.Empty;
            }
            catch (JsonException)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The erasure request is invalid",
                    detail: "The body is not JSON of the form {\"email\": \"…\"}.");
            }
        }

        if (email.Length == 0)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["email"] = [$"Name the address to erase in the {EmailHeader} header or as {{\"email\": \"…\"}} in a JSON body."] },
                title: "The erasure request is invalid");
        }

        var requestId = Guid.NewGuid().ToString("N");
        int erased;
        try
        {
            erased = await store.EraseEmailAsync(email, cancellationToken);
            AuditTelemetry.RecordsDeleted(store.Kind, "erasure", erased);
            logger.Erased(requestId, erased, store.Kind);
            await store.WriteAsync(new AuditRecord
            {
                RequestId = requestId,
                Time = time.GetUtcNow(),
                Operation = "audit-erase",
                ClientIp = clientAddress.Resolve(http.Connection.RemoteIpAddress, http.Request.Headers["X-Forwarded-For"])?.ToString(),
                Result = JsonSerializer.Serialize(new { erased }),
                StatusCode = StatusCodes.Status200OK,
                LatencyMs = time.GetElapsedTime(started).TotalMilliseconds,
                KeyId = Caller.KeyIdOf(http),
            }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.QueryFailed(store.Kind, e.GetType().Name, e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit store unavailable",
                detail: "The erasure could not be completed and recorded. Retry shortly (erasing again is safe).");
        }

        http.Response.Headers["X-Ecg2Af-Audit-Id"] = requestId;
        return TypedResults.Ok(new EraseResult(requestId, erased));
    }

    private static DateTimeOffset? Time(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        errors[field] = [$"{field} must be an ISO 8601 time such as 2026-01-31T08:00:00Z."];
        return null;
    }
}

internal sealed record EraseRequest(string? Email);

internal sealed record EraseResult(string RequestId, int Erased);

internal sealed record AuditPage(int Count, bool Truncated, IReadOnlyList<AuditEntry> Records);

/// <summary>A record as the audit endpoint returns it: the JSON columns (files, result, error) nested as JSON.</summary>
internal sealed record AuditEntry(
    string RequestId,
    DateTimeOffset Time,
    string Operation,
    string? ClientIp,
    string? Name,
    string? Email,
    IReadOnlyList<AuditFile> Files,
    string? Format,
    string? ModelName,
    string? ModelVersion,
    string? ModelSha256,
    string? ExecutionProvider,
    JsonElement? Result,
    JsonElement? Error,
    int StatusCode,
    double LatencyMs,
    string? Worker,
    string? KeyId)
{
    public static AuditEntry From(AuditRecord r) => new(
        r.RequestId, r.Time, r.Operation, r.ClientIp, r.Name, r.Email, r.Files, r.Format, r.ModelName, r.ModelVersion,
        r.ModelSha256, r.ExecutionProvider, Parse(r.Result), Parse(r.Error), r.StatusCode, r.LatencyMs, r.Worker, r.KeyId);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
