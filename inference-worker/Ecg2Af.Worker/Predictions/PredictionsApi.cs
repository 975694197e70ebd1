using Ecg2Af.Ecg;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.Models;
using Ecg2Af.Worker.Uploads;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Predictions;

/// <summary><c>POST /api/v1/predictions</c>: one ECG record in, the decoded ECG2AF outputs out.</summary>
internal static class PredictionsApi
{
    public static IEndpointRouteBuilder MapPredictionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/predictions", PredictAsync)
            .DisableAntiforgery()
            .WithName("Predict")
            .WithAudit();
        return app;
    }

    private static async Task<IResult> PredictAsync(
        HttpRequest request,
        ModelHost models,
        InferenceExecutor executor,
        IOptions<UploadOptions> limits,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(PredictionsApi));
        var (form, errors) = await PredictionForm.ReadAsync(request, limits.Value, cancellationToken);
        if (form is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The prediction request is incomplete or invalid");
        }

        var model = models.Current;
        if (model is null)
        {
            return EcgProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Model not ready", "The model is still loading; retry shortly.");
        }

        if ((form.Model is not null && form.Model != model.Name) || (form.Version is not null && form.Version != model.Version))
        {
            return EcgProblems.Problem(StatusCodes.Status404NotFound, "Model not found",
                $"This worker serves {model.Name} version {model.Version}; '{form.Model ?? model.Name}' version '{form.Version ?? "latest"}' is not available.");
        }

        ScoringInput input;
        try
        {
            input = ScoringPipeline.Prepare(form.Ecg.Files, form.Ecg.ReadOptions, model.Signature);
        }
        catch (EcgFormatException e)
        {
            logger.EcgRefused(e.Kind, form.Ecg.Files.Count);
            return EcgProblems.From(e);
        }

        var (outputs, timings) = await executor.RunAsync(model, input.Prepared.Data, cancellationToken);
        var response = ScoringPipeline.Complete(Guid.CreateVersion7().ToString("N"), model, input, outputs, 0, timings);
        logger.Predicted(response.Id, input.Recording.Format, model.Name, model.Version, response.TimingMs["total"]);
        return TypedResults.Ok(response);
    }
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
