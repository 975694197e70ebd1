using Ecg2Af.Ecg;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
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
            .WithName("Preprocess");
        return app;
    }

    private static async Task<IResult> PreprocessAsync(HttpRequest request, ModelCatalog models, IOptions<UploadOptions> limits, CancellationToken cancellationToken)
    {
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
                var (recording, derived) = DerivedLeads.Complete(EcgReader.Read(upload.Files, upload.ReadOptions));
                return TypedResults.Ok(new MillivoltLeads(
                    recording.Format,
                    recording.RecordName,
                    recording.SampleRateHz,
                    recording.SampleCount,
                    "mV",
                    Leads.Standard12.Where(recording.Leads.ContainsKey).ToDictionary(l => l, l => recording.Leads[l]),
                    derived,
                    recording.QualityFlags,
                    recording.Warnings));
            }

            var (status, served, message) = models.Resolve(
                EcgUploadForm.Value(request, upload.Form, "model") ?? models.DefaultModel, EcgUploadForm.Value(request, upload.Form, "version"));
            if (served is null)
            {
                return ServingProblems.Problem(request.HttpContext.Response, new Resolution(status, null, message));
            }

            var model = served.Model;

            var input = ScoringPipeline.Prepare(upload.Files, upload.ReadOptions, model.Signature);
            var prepared = input.Prepared;
            var channels = prepared.Leads.Count;
            var rows = new float[prepared.Samples][];
            for (var t = 0; t < rows.Length; t++)
            {
                rows[t] = prepared.Data.AsSpan(t * channels, channels).ToArray();
            }

            var spec = model.Signature.Input;
            return TypedResults.Ok(new ModelInput(
                model.Name,
                model.Version,
                spec.Name,
                prepared.Leads,
                spec.SampleRateHz,
                prepared.Samples,
                new NormalizationFacts(spec.Normalization, prepared.Mean, prepared.Std, spec.Epsilon),
                input.Recording.Format,
                prepared.LeadsDerived,
                prepared.QualityFlags,
                prepared.Warnings,
                rows));
        }
        catch (EcgFormatException e)
        {
            return EcgProblems.From(e);
        }
    }
}

internal sealed record NormalizationFacts(NormalizationKind Kind, double Mean, double Std, double Epsilon);

/// <summary>The model stage: <c>data[t][c]</c> is exactly the tensor row the model receives.</summary>
internal sealed record ModelInput(
    string Model,
    string Version,
    string InputName,
    IReadOnlyList<string> Leads,
    double SampleRateHz,
    int Samples,
    NormalizationFacts Normalization,
    string Format,
    IReadOnlyList<string> LeadsDerived,
    IReadOnlyList<string> QualityFlags,
    IReadOnlyList<string> Warnings,
    float[][] Data);

/// <summary>The millivolt stage: each lead at the source rate.</summary>
internal sealed record MillivoltLeads(
    string Format,
    string? RecordName,
    double SampleRateHz,
    int Samples,
    string Units,
    IReadOnlyDictionary<string, float[]> Leads,
    IReadOnlyList<string> LeadsDerived,
    IReadOnlyList<string> QualityFlags,
    IReadOnlyList<string> Warnings);
