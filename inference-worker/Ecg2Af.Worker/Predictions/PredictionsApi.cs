using System.Diagnostics;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.OpenApi;
using Ecg2Af.Security;
using Ecg2Af.Worker.Security;
using Ecg2Af.Worker.Serving;
using Ecg2Af.Worker.Uploads;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Predictions;

/// <summary><c>POST /api/v1/predictions</c>: one ECG record in, the decoded ECG2AF outputs out.</summary>
internal static class PredictionsApi
{
    private const string Endpoint = "predictions";

    /// <summary>The <c>include</c> value that adds the millivolt leads to the answer.</summary>
    public const string LeadsMv = "leads_mv";

    public static IEndpointRouteBuilder MapPredictionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/predictions", PredictAsync)
            .DisableAntiforgery()
            .WithName("Predict")
            .WithTags("Predictions")
            .WithSummary("Score one ECG record")
            .WithDescription("The web form's route: no API key needed (name and email identify the request; a key sent is checked). " +
                "Answers the decoded ECG2AF outputs with the model's provenance and the input's facts. Audited: the " +
                "X-Ecg2Af-Audit-Id header names the audit record.")
            .WithFormBody(FormFields.Prediction)
            .WithParameters(EndpointDocs.AdmissionHeaders)
            .Produces<PredictionResponse>(StatusCodes.Status200OK)
            .ProducesProblems(400, 404, 413, 415, 422, 500, 503, 504)
            .AcceptApiKey(ApiKeyScopes.Predict)
            .WithAudit()
            .WithRequestEnvelope();
        return app;
    }

    private static async Task<IResult> PredictAsync(
        HttpRequest request,
        ModelCatalog models,
        InferenceScheduler scheduler,
        InferenceExecutor executor,
        IOptions<UploadOptions> limits,
        IOptions<SchedulerOptions> serving,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var logger = loggers.CreateLogger(typeof(PredictionsApi));
        if (models.Resolve(request.Query["model"].ToString() is { Length: > 0 } m ? m : models.DefaultModel, NonEmpty(request.Query["version"].ToString()))
                .Served is { } likely
            && AdmissionReader.RefuseBeforeBody(request, scheduler, likely, Priority.Routine, Endpoint) is { } early)
        {
            return ServingProblems.Problem(request.HttpContext.Response, early);
        }

        var (form, errors) = await PredictionForm.ReadAsync(request, limits.Value, cancellationToken);
        if (form is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The prediction request is incomplete or invalid");
        }

        if (!AdmissionReader.TryRead(request, EcgUploadForm.Value(request, form.Ecg.Form, "priority"), null, serving.Value, started,
                out var admission, out var invalid))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [invalid.Field] = [invalid.Message] },
                title: "The prediction request is incomplete or invalid");
        }

        // The lease keeps the chosen version loaded until the answer is built, even if a reload retires it meanwhile.
        var resolution = models.Acquire(form.Model, form.Version);
        if (resolution.Lease is null)
        {
            return ServingProblems.Problem(request.HttpContext.Response, resolution);
        }

        using var lease = resolution.Lease;
        var model = lease.Version.Model;

        ScoringInput input;
        try
        {
            input = ScoringPipeline.Prepare(form.Ecg.Files, form.Ecg.ReadOptions, model.Signature);
        }
        catch (EcgFormatException e)
        {
            logger.EcgRefused(e.Kind, form.Ecg.Files.Count);
            ServingMetrics.InvalidInput(model.Name, model.Version, admission.Priority);
            return EcgProblems.From(e);
        }

        InferenceResult result;
        IReadOnlyDictionary<string, double> timings;
        try
        {
            (result, timings) = await executor.RunAsync(lease.Version, input.Prepared.Data, admission, cancellationToken);
        }
        catch (InferenceRejectedException e)
        {
            return ServingProblems.Problem(request.HttpContext.Response, e);
        }
        catch (InferenceFailedException e)
        {
            logger.InferenceFailed(model.Name, model.Version, e);
            return EcgProblems.Problem(StatusCodes.Status500InternalServerError, "Inference failed", "The model failed on this request; it was logged.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; its request left the queue without being computed (499: client closed request).
            return TypedResults.StatusCode(499);
        }

        var outputs = result.Outputs;
        var response = ScoringPipeline.Complete(Guid.CreateVersion7().ToString("N"), model, input, outputs, 0, timings);
        if (Includes(request, form.Ecg.Form, LeadsMv))
        {
            response = response with { LeadsMv = MillivoltView.From(input.Recording) };
        }

        logger.Predicted(response.Id, input.Recording.Format, model.Name, model.Version, response.TimingMs["total"]);
        ServingMetrics.Completed(model.Name, model.Version, Endpoint, Stopwatch.GetElapsedTime(started));
        return TypedResults.Ok(response);
    }

    /// <summary>Whether <c>include</c> (query or form field; comma-separated) names <paramref name="part"/>.</summary>
    private static bool Includes(HttpRequest request, IFormCollection form, string part) =>
        request.Query["include"].Concat(form["include"])
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Contains(part, StringComparer.OrdinalIgnoreCase);

    private static string? NonEmpty(string value) => value.Length > 0 ? value : null;
}

internal static partial class PredictionsLog
{
    // Never log the submitter's name or email: they belong to the audit store only.
    [LoggerMessage(EventId = 200, Level = LogLevel.Information,
        Message = "Prediction {Id}: format {Format}, model {Model}/{Version}, {TotalMs} ms")]
    public static partial void Predicted(this ILogger logger, string id, string format, string model, string version, double totalMs);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "ECG refused ({Kind}) from {FileCount} file(s)")]
    public static partial void EcgRefused(this ILogger logger, EcgErrorKind kind, int fileCount);
}
