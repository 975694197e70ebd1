using Ecg2Af.Ecg;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Security;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.OpenApi;
using Ecg2Af.Worker.Security;
using Ecg2Af.Worker.Serving;
using Ecg2Af.Worker.Uploads;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Preprocessing;

/// <summary>
/// <c>POST /api/v1/ecg:preprocess</c>: what the model would see. Default stage <c>model</c>: the exact input tensor
/// ([samples][leads], lead names, normalisation mean and std). Stage <c>mv</c>: the decoded millivolt leads at the
/// source rate, with the derivable limb leads added (used to draw the ECG).
/// </summary>
internal static class PreprocessApi
{
    public static IEndpointRouteBuilder MapPreprocessApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/ecg:preprocess", PreprocessAsync)
            .DisableAntiforgery()
            .WithName("Preprocess")
            .WithTags("Preprocessing")
            .WithSummary("What the model would see")
            .WithDescription("stage=model (default): the exact input tensor ([samples][leads]), its lead names and normalisation. " +
                "stage=mv: the decoded millivolt leads at the source rate, with the derivable limb leads added.")
            .WithFormBody(FormFields.Preprocess)
            .Produces<ModelInputView>(StatusCodes.Status200OK)
            .ProducesProblems(400, 404, 413, 415, 422, 503)
            .RequireApiKey(ApiKeyScopes.Predict)
            .WithAudit("preprocess")
            .WithRequestEnvelope();
        return app;
    }

    private static async Task<IResult> PreprocessAsync(HttpRequest request, ModelCatalog models, IOptions<UploadOptions> limits, CancellationToken cancellationToken)
    {
        ServingMetrics.Parsed("preprocess");
        var (upload, errors) = await EcgUploadForm.ReadAsync(request, limits.Value, cancellationToken);
        if (upload is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The preprocessing request is incomplete or invalid");
        }

        var stage = EcgUploadForm.Value(request, upload.Form, "stage") ?? "model";
        if (stage is not ("model" or "mv"))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["stage"] = ["stage must be 'model' (the model input) or 'mv' (decoded millivolts)."] });
        }

        try
        {
            if (stage == "mv")
            {
                var recording = EcgReader.Read(upload.Files, upload.ReadOptions);
                AuditScope.Of(request.HttpContext)?.Format = recording.Format;
                return TypedResults.Ok(MillivoltView.From(recording));
            }

            var (status, served, message) = models.Resolve(
                EcgUploadForm.Value(request, upload.Form, "model") ?? models.DefaultModel, EcgUploadForm.Value(request, upload.Form, "version"));
            if (served is null)
            {
                return ServingProblems.Problem(request.HttpContext.Response, new Resolution(status, null, message));
            }

            var model = served.Model;
            AuditScope.Of(request.HttpContext)?.Target = served;

            var input = ScoringPipeline.Prepare(upload.Files, upload.ReadOptions, model.Signature);
            AuditScope.Of(request.HttpContext)?.Format = input.Recording.Format;
            return TypedResults.Ok(ModelInputView.From(model.Signature, input));
        }
        catch (EcgFormatException e)
        {
            return EcgProblems.From(e);
        }
    }
}
