using System.Globalization;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Worker.Serving;

/// <summary>
/// The HTTP status of every way a request can fail to be served (docs/serving.md, "Status codes"): 503 with
/// Retry-After when the worker is saturated, draining or the model is not ready; 504 when the deadline passed before
/// compute; 404 for an unknown model or version; 500 when ONNX Runtime failed. 429 is left to the gateway's per-client
/// limits.
/// </summary>
internal static class ServingProblems
{
    public static int Status(RejectionReason reason) =>
        reason == RejectionReason.DeadlineExceeded ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status503ServiceUnavailable;

    public static int Status(ResolveStatus status) => status switch
    {
        ResolveStatus.UnknownModel or ResolveStatus.UnknownVersion => StatusCodes.Status404NotFound,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    public static string Title(RejectionReason reason) => reason switch
    {
        RejectionReason.QueueFull => "Worker saturated",
        RejectionReason.DeadlineExceeded => "Deadline passed before compute",
        RejectionReason.DeadlineUnreachable => "Deadline cannot be met",
        _ => "Worker shutting down",
    };

    /// <summary>Sets <c>Retry-After</c> (whole seconds, at least 1) when the refusal says when to come back.</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A ProblemDetails answer for the REST API.</summary>
    public static IResult Problem(HttpResponse response, InferenceRejectedException e)
    {
        SetRetryAfter(response, e.RetryAfter);
        return TypedResults.Problem(detail: e.Message, statusCode: Status(e.Reason), title: Title(e.Reason));
    }

    /// <summary>A ProblemDetails answer when the model or version cannot be resolved.</summary>
    public static IResult Problem(HttpResponse response, Resolution resolution)
    {
        var status = Status(resolution.Status);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            SetRetryAfter(response, TimeSpan.FromSeconds(1));
        }

        return TypedResults.Problem(detail: resolution.Message, statusCode: status,
            title: status == StatusCodes.Status404NotFound ? "Model not found" : "Model not ready");
    }
}
