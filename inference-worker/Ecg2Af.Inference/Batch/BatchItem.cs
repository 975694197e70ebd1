using System.Text.Json;
using System.Text.Json.Serialization;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Batch;

/// <summary>
/// The answer for one record of a batch (docs/batch.md): where it was in the input, its name, its files, and either
/// the prediction (exactly the JSON of <c>POST /api/v1/predictions</c>) or a ProblemDetails-shaped error.
/// </summary>
public sealed record BatchItem
{
    /// <summary>Position of the record in the input (0-based).</summary>
    public required int Index { get; init; }

    /// <summary>Record name: the WFDB record name (with its folder), else the file path without its extension.</summary>
    public required string Record { get; init; }

    /// <summary>The prediction id, or for an error a fresh id; the worker's audit record carries the same id.</summary>
    public required string Id { get; init; }

    public required IReadOnlyList<BatchFileFacts> Files { get; init; }

    /// <summary>The HTTP status the record would have had on its own: 200, or the error's status.</summary>
    public required int Status { get; init; }

    public PredictionResponse? Prediction { get; init; }

    public RecordProblem? Error { get; init; }

    /// <summary>Time spent on this record (read, preprocess, queue, compute, decode), in milliseconds.</summary>
    [JsonIgnore]
    public double LatencyMs { get; init; }

    [JsonIgnore]
    public bool Succeeded => Prediction is not null;
}

/// <summary>A file of a record: its name in the upload, its size and its SHA-256 (lower-case hex; null when it could not be read).</summary>
public sealed record BatchFileFacts(string Name, long Size, string? Sha256);

/// <summary>An RFC 7807 problem for one record: the same type, title, status and detail a single request would get.</summary>
public sealed record RecordProblem(string Type, string Title, int Status, string Detail)
{
    public static RecordProblem Of(int status, string title, string detail) => new(TypeOf(status), title, status, detail);

    /// <summary>The ECG could not be used (the titles of the single-prediction endpoint).</summary>
    public static RecordProblem From(EcgFormatException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Kind switch
        {
            EcgErrorKind.TooLarge => Of(413, "ECG upload too large", e.Message),
            EcgErrorKind.UnsupportedFormat => Of(415, "Unsupported ECG format", e.Message),
            EcgErrorKind.Unusable => Of(422, "ECG cannot be used by the model", e.Message),
            _ => Of(400, "Malformed ECG file", e.Message),
        };
    }

    /// <summary>The batcher refused or expired the record (never computed).</summary>
    public static RecordProblem From(InferenceRejectedException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Reason switch
        {
            RejectionReason.QueueFull => Of(503, "Worker saturated", e.Message),
            RejectionReason.DeadlineExceeded => Of(504, "Deadline passed before compute", e.Message),
            RejectionReason.DeadlineUnreachable => Of(503, "Deadline cannot be met", e.Message),
            _ => Of(503, "Worker shutting down", e.Message),
        };
    }

    /// <summary>A record that failed inside the service, not because of its files; the text says nothing internal.</summary>
    public static RecordProblem Internal() =>
        Of(500, "Internal error", "This record could not be processed because of an error inside the service; it was logged.");

    public static RecordProblem InferenceFailed() =>
        Of(500, "Inference failed", "The model failed on this request; it was logged.");

    /// <summary>The link to the status's definition, as ASP.NET's ProblemDetails service writes it.</summary>
    public static string TypeOf(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        422 => "https://tools.ietf.org/html/rfc4918#section-11.2",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        504 => "https://tools.ietf.org/html/rfc9110#section-15.6.5",
        _ => "about:blank",
    };
}

/// <summary>The JSON settings of every Ecg2Af HTTP answer: snake_case names, no nulls, enums as snake_case strings.</summary>
public static class BatchJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
