using System.Globalization;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Worker.Serving;

/// <summary>A request's lane and deadline, read from its headers and parameters.</summary>
internal readonly record struct Admission(Priority Priority, long DeadlineTimestamp, TimeSpan Timeout);

/// <summary>
/// Reads how a request wants to be scheduled (docs/serving.md, "Priority and deadlines"):
/// priority from a request parameter (form field, query string or OIP <c>parameters.priority</c>), else the
/// <c>X-Ecg2Af-Priority</c> header, else routine; the deadline as the shortest of <c>X-Ecg2Af-Deadline-Ms</c> and the
/// request's own timeout parameter, else <see cref="SchedulerOptions.DefaultTimeout"/>, counted from when the worker
/// started handling the request.
/// </summary>
internal static class AdmissionReader
{
    public const string PriorityHeader = "X-Ecg2Af-Priority";
    public const string DeadlineHeader = "X-Ecg2Af-Deadline-Ms";

    /// <param name="request">The HTTP request (headers).</param>
    /// <param name="priorityParameter">The request's own priority parameter, if any (it wins over the header).</param>
    /// <param name="timeoutParameter">The request's own timeout parameter, if any.</param>
    /// <param name="options">Serving options (default timeout).</param>
    /// <param name="startedAt">Stopwatch timestamp when handling began.</param>
    /// <param name="admission">The lane and deadline.</param>
    /// <param name="error">Field and message when a value cannot be read.</param>
    public static bool TryRead(
        HttpRequest request, string? priorityParameter, TimeSpan? timeoutParameter, SchedulerOptions options, long startedAt,
        out Admission admission, out (string Field, string Message) error)
    {
        admission = default;
        error = default;
        var priority = Priority.Routine;
        var priorityText = priorityParameter ?? NonEmpty(request.Headers[PriorityHeader].ToString());
        if (priorityText is not null && !Priorities.TryParse(priorityText, out priority))
        {
            error = (priorityParameter is not null ? "priority" : PriorityHeader,
                "Priority must be stat, routine or batch (or a schedule-policy level: 1 = stat, 2 = routine, 3 = batch).");
            return false;
        }

        TimeSpan? timeout = timeoutParameter;
        if (NonEmpty(request.Headers[DeadlineHeader].ToString()) is { } deadlineText)
        {
            if (!double.TryParse(deadlineText, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) || !(ms > 0) || double.IsInfinity(ms))
            {
                error = (DeadlineHeader, $"{DeadlineHeader} must be a positive number of milliseconds.");
                return false;
            }

            var fromHeader = TimeSpan.FromMilliseconds(Math.Min(ms, TimeSpan.FromDays(1).TotalMilliseconds));
            timeout = timeout is { } t && t < fromHeader ? t : fromHeader;
        }

        var effective = timeout ?? options.DefaultTimeout;
        var deadline = startedAt + (long)(effective.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        admission = new Admission(priority, deadline, effective);
        return true;
    }

    /// <summary>
    /// The lane a request names before its body is read (the <c>priority</c> query parameter, else the
    /// <see cref="PriorityHeader"/> header), else <paramref name="fallback"/>; null when what it names cannot be read
    /// (the full read reports that). A lane named only inside the body (a form field, OIP <c>parameters.priority</c>)
    /// is not known yet: under overload such a request is admitted or refused by this lane (docs/serving.md).
    /// </summary>
    public static Priority? BeforeBody(HttpRequest request, Priority fallback)
    {
        var text = NonEmpty(request.Query["priority"].ToString()) ?? NonEmpty(request.Headers[PriorityHeader].ToString());
        if (text is null)
        {
            return fallback;
        }

        return Priorities.TryParse(text, out var priority) ? priority : null;
    }

    /// <summary>
    /// Admission before the body is read: a 503 (with Retry-After) when the lane the request names before its body
    /// is full or the worker drains, else null. Counts the body parse that follows an admission.
    /// </summary>
    public static InferenceRejectedException? RefuseBeforeBody(
        HttpRequest request, InferenceScheduler scheduler, IInferenceTarget target, Priority fallback, string endpoint)
    {
        if (BeforeBody(request, fallback) is { } lane && scheduler.RefuseBeforeParsing(target, lane) is { } refusal)
        {
            return refusal;
        }

        ServingMetrics.Parsed(endpoint);
        return null;
    }

    private static string? NonEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
