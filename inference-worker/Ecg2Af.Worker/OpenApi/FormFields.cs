using Ecg2Af.Worker.Uploads;
using Microsoft.OpenApi;

namespace Ecg2Af.Worker.OpenApi;

/// <summary>One field of a multipart upload, as the OpenAPI document describes it.</summary>
internal sealed record FormField(string Name, string Description, bool Required = false, bool Files = false, string[]? Values = null, bool Boolean = false, bool Number = false);

/// <summary>Endpoint metadata: the route reads a <c>multipart/form-data</c> body with these fields.</summary>
internal sealed record FormBody(string Description, IReadOnlyList<FormField> Fields);

/// <summary>
/// The fields of the ECG uploads, in one place: <see cref="EcgUploadForm"/> reads the ECG and its reading hints,
/// <see cref="Predictions.PredictionForm"/> the submitter, and the endpoints the rest. Every field may be sent as a
/// query-string parameter of the same name instead (the form wins).
/// </summary>
internal static class FormFields
{
    public static readonly FormField Ecg = new(EcgUploadForm.EcgField,
        "The ECG file(s) of one record: one file, the parts of a WFDB record (.hea with its .dat or .mat), or one .zip. " +
        "The format is found from the bytes, never the file name.", Required: true, Files: true);

    public static readonly FormField BatchEcg = new(EcgUploadForm.EcgField,
        "ECG files: several records (WFDB parts are grouped by folder and name) and/or .zip archives of many.", Required: true, Files: true);

    public static readonly FormField Name = new("name", "Who submits the ECG (at most 200 characters); kept in the audit trail only.", Required: true);

    public static readonly FormField Email = new("email", "The submitter's email address; kept in the audit trail only.", Required: true);

    public static readonly FormField[] ReadingHints =
    [
        new(EcgUploadForm.SampleRateField, "Sample rate in hertz (50–20000) for files that do not state one (.npy, CSV without a rate line).", Number: true),
        new(EcgUploadForm.UnitsField, "Units of the sample values for files that do not state them.", Values: ["mV", "uV", "V"]),
        new(EcgUploadForm.AcquisitionField, "How the ECG was recorded, as a free-text hint kept with the reading."),
        new(EcgUploadForm.AllowFlatLeadsField, "Score a record whose I, II or V1–V6 are missing or flat (flagged) instead of refusing it.", Boolean: true),
    ];

    public static readonly FormField[] ModelChoice =
    [
        new("model", "The model to use (default: the worker's default model)."),
        new("version", "The model version (default: the newest ready one)."),
    ];

    public static readonly FormField Priority = new("priority",
        "Scheduling lane: stat, routine or batch (default routine; batch for the batch endpoint). Also the X-Ecg2Af-Priority header.",
        Values: ["stat", "routine", "batch"]);

    public static readonly FormBody Prediction = new(
        "One ECG record and who submits it.",
        [Ecg, Name, Email, .. ReadingHints, .. ModelChoice, Priority,
            new("include", "Comma-separated extras: leads_mv adds the decoded millivolt leads to the answer.")]);

    public static readonly FormBody Batch = new(
        "Many ECG records and who submits them.",
        [BatchEcg, Name, Email, .. ReadingHints, .. ModelChoice, Priority]);

    public static readonly FormBody Preprocess = new(
        "One ECG record.",
        [Ecg, .. ReadingHints, .. ModelChoice,
            new("stage", "model (default): the exact model input tensor; mv: the decoded millivolt leads at the source rate.", Values: ["model", "mv"])]);

    /// <summary>The <c>multipart/form-data</c> request body of <paramref name="form"/>.</summary>
    public static OpenApiRequestBody RequestBody(FormBody form)
    {
        var properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        foreach (var field in form.Fields)
        {
            properties[field.Name] = Schema(field);
        }

        return new OpenApiRequestBody
        {
            Required = true,
            Description = form.Description + " Each field may instead be sent as a query-string parameter of the same name.",
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = properties,
                        Required = new HashSet<string>(form.Fields.Where(f => f.Required).Select(f => f.Name), StringComparer.Ordinal),
                    },
                    Encoding = form.Fields.Where(f => f.Files).ToDictionary(
                        f => f.Name, _ => new OpenApiEncoding { ContentType = "application/octet-stream" }, StringComparer.Ordinal),
                },
            },
        };
    }

    private static OpenApiSchema Schema(FormField field)
    {
        if (field.Files)
        {
            return new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Description = field.Description,
                Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                MinItems = 1,
            };
        }

        return new OpenApiSchema
        {
            Type = field.Boolean ? JsonSchemaType.Boolean : field.Number ? JsonSchemaType.Number : JsonSchemaType.String,
            Description = field.Description,
            Enum = field.Values?.Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v)).ToList(),
        };
    }
}
