using System.Net;
using System.Text.Json;

namespace Ecg2Af.Client;

/// <summary>
/// The service refused a request: its HTTP status and the RFC 7807 ProblemDetails it answered with (title, detail
/// and, for a validation problem, the field errors). The message says what was wrong in the service's words.
/// </summary>
public sealed class Ecg2AfApiException : HttpRequestException
{
    /// <summary>Creates the exception from a refusal.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="title">ProblemDetails <c>title</c>.</param>
    /// <param name="detail">ProblemDetails <c>detail</c>.</param>
    /// <param name="errors">ProblemDetails <c>errors</c> (field → messages); empty when none.</param>
    /// <param name="body">The answer's body as sent.</param>
    public Ecg2AfApiException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]> errors, string body)
        : base(Describe(status, title, detail, errors), null, status)
    {
        Title = title;
        Detail = detail;
        Errors = errors;
        Body = body;
    }

    /// <summary>ProblemDetails <c>title</c>, if the answer had one.</summary>
    public string? Title { get; }

    /// <summary>ProblemDetails <c>detail</c>, if the answer had one.</summary>
    public string? Detail { get; }

    /// <summary>The field errors of a validation problem (field → messages).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The body of the answer as the service sent it.</summary>
    public string Body { get; }

    internal static async Task<Ecg2AfApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? title = null, detail = null;
        var errors = new Dictionary<string, string[]>();
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                title = Text(root, "title");
                detail = Text(root, "detail") ?? Text(root, "error");
                if (root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                {
                    foreach (var field in fields.EnumerateObject().Where(f => f.Value.ValueKind == JsonValueKind.Array))
                    {
                        errors[field.Name] = field.Value.EnumerateArray().Select(m => m.ToString()).ToArray();
                    }
                }
            }
        }
        catch (JsonException)
        {
            detail = body.Length > 300 ? body[..300] : body;
        }

        return new Ecg2AfApiException(response.StatusCode, title, detail, errors, body);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Describe(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]> errors)
    {
        var parts = new List<string> { $"The service refused the request ({(int)status})." };
        parts.AddRange(new[] { title, detail }.OfType<string>());
        parts.AddRange(errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")));
        return string.Join(" ", parts);
    }
}
