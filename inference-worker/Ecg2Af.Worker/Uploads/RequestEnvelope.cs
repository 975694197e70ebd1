using Microsoft.AspNetCore.WebUtilities;

namespace Ecg2Af.Worker.Uploads;

/// <summary>
/// Turns a request envelope the framework cannot read into the client's fault (docs/security.md, "Hostile input"):
/// a multipart body with no or a mismatched boundary, a truncated body, oversized part headers, a body larger than
/// the limit. Kestrel and the multipart reader report these as <see cref="BadHttpRequestException"/>,
/// <see cref="InvalidDataException"/> or an <see cref="IOException"/> from the multipart reader; each becomes a 400
/// (413 when too large) ProblemDetails instead of a 500. Every route that reads a body uses it.
/// </summary>
internal sealed class RequestEnvelopeFilter : IEndpointFilter
{
    public const string Title = "Malformed request";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception e) when (Status(e, context.HttpContext) is { } status)
        {
            return status == StatusCodes.Status413PayloadTooLarge
                ? EcgProblems.Problem(status, "Request too large", e.Message)
                : EcgProblems.Problem(status, Title, $"The request body could not be read: {e.Message}");
        }
    }

    /// <summary>The status for an envelope failure, or null when <paramref name="e"/> is something else.</summary>
    internal static int? Status(Exception e, HttpContext http) => e switch
    {
        _ when http.RequestAborted.IsCancellationRequested || http.Response.HasStarted => null,
        BadHttpRequestException bad => bad.StatusCode,
        InvalidDataException => StatusCodes.Status400BadRequest,
        IOException when e.TargetSite?.DeclaringType?.Assembly == typeof(MultipartReader).Assembly => StatusCodes.Status400BadRequest,
        _ => null,
    };
}

internal static class RequestEnvelopeExtensions
{
    /// <summary>Malformed envelopes of this route's requests become 400/413 ProblemDetails.</summary>
    public static RouteHandlerBuilder WithRequestEnvelope(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<RequestEnvelopeFilter>();
}
