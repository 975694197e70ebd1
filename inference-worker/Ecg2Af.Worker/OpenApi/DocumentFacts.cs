using System.Text.Json.Nodes;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Worker.InferenceProtocol;
using Ecg2Af.Worker.Predictions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ecg2Af.Worker.OpenApi;

/// <summary>
/// The document-wide facts: title, servers (relative: the document describes the host it came from), the API key
/// schemes, the health probes (mapped as health checks, which the framework does not describe), the ProblemDetails
/// fields every answer carries, the answers the gateway gives itself in front of every proxied route, and the bodies
/// that are not one JSON type (the preprocess stages, the batch formats, the inference protocol's binary extension).
/// </summary>
internal static class DocumentFacts
{
    public const string ProblemJson = "application/problem+json";
    private const string ProblemDetails = "ProblemDetails";
    private const string ValidationProblemDetails = "HttpValidationProblemDetails";

    public static async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Ecg2Af API",
            Version = ApiDocument.Name,
            Description =
                "ECG atrial-fibrillation risk: ECG uploads scored by the ECG2AF model, the model input they make, the " +
                "Open Inference Protocol v2 (KServe/Triton REST, with the binary tensor extension), the audit trail and " +
                "the health probes. Errors are RFC 7807 ProblemDetails; the inference protocol's own errors are " +
                "{\"error\": \"…\"}. " + Notices.StandIn,
        };
        document.Servers = [new OpenApiServer { Url = "/", Description = "The host that served this document (the gateway)." }];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [ApiDocument.BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (docs/api-keys.md) as 'Authorization: Bearer <key>'. The scopes listed on an operation are the ones its key must hold.",
            },
            [ApiDocument.HeaderScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = Ecg2Af.Security.ApiKeyCredentials.ApiKeyHeader,
                Description = "The same API key in its own header.",
            },
        };

        RequireProblemFields(document);
        AddHealthProbes(document);
        await DescribeBodiesAsync(document, context, cancellationToken);
        foreach (var (path, item) in document.Paths)
        {
            if (path.StartsWith("/api/", StringComparison.Ordinal) || path == "/v2" || path.StartsWith("/v2/", StringComparison.Ordinal))
            {
                foreach (var (method, operation) in item.Operations ?? [])
                {
                    AddGatewayAnswers(operation, document, method == HttpMethod.Post);
                }
            }
        }
    }

    /// <summary>Adds (or extends) the ProblemDetails answer for <paramref name="status"/>.</summary>
    public static void Problem(OpenApiOperation operation, OpenApiDocument document, int status, string description)
    {
        operation.Responses ??= [];
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses.TryGetValue(key, out var existing) && existing is OpenApiResponse response)
        {
            response.Content ??= new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal);
            response.Content.TryAdd(ProblemJson, new OpenApiMediaType { Schema = new OpenApiSchemaReference(ProblemDetails, document) });
            // The framework's description is the reason phrase ("Not Found"); it stays, followed by ours.
            response.Description = string.IsNullOrEmpty(response.Description) ? description
                : response.Description.Contains(description, StringComparison.Ordinal) ? response.Description
                : response.Description == Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) ? $"{response.Description}. {description}"
                : $"{response.Description} {description}";
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                [ProblemJson] = new() { Schema = new OpenApiSchemaReference(ProblemDetails, document) },
            },
        };
    }

    /// <summary>Every Ecg2Af problem says its title and status, never null (the ASP.NET types leave every field optional and nullable).</summary>
    private static void RequireProblemFields(OpenApiDocument document)
    {
        foreach (var name in new[] { ProblemDetails, ValidationProblemDetails })
        {
            if (document.Components?.Schemas?.TryGetValue(name, out var found) == true && found is OpenApiSchema schema)
            {
                schema.Required = new HashSet<string>(["title", "status"], StringComparer.Ordinal);
                if (schema.Properties?.TryGetValue("title", out var title) == true && title is OpenApiSchema titleSchema)
                {
                    titleSchema.Type = JsonSchemaType.String;
                }

                if (schema.Properties?.TryGetValue("status", out var status) == true && status is OpenApiSchema statusSchema)
                {
                    statusSchema.Type = JsonSchemaType.Integer;
                    statusSchema.Minimum = "100";
                    statusSchema.Maximum = "599";
                }
            }
        }
    }

    /// <summary>
    /// What the gateway answers itself on every proxied route, before or instead of a worker: 413 (body over its
    /// limit), 429 (rate limit of the key or client address), 502 (no worker answered), 503 (concurrency cap, no
    /// worker available) and 504 (the gateway's deadline).
    /// </summary>
    private static void AddGatewayAnswers(OpenApiOperation operation, OpenApiDocument document, bool hasBody)
    {
        if (hasBody)
        {
            Problem(operation, document, StatusCodes.Status413PayloadTooLarge, "Gateway: the body is larger than the gateway takes (Gateway:Limits:MaxRequestBodyBytes).");
        }

        Problem(operation, document, StatusCodes.Status429TooManyRequests, "Gateway: the API key or client address sent more requests than it may; see Retry-After.");
        Problem(operation, document, StatusCodes.Status502BadGateway, "Gateway: no worker answered.");
        Problem(operation, document, StatusCodes.Status503ServiceUnavailable, "Gateway: too many requests in flight or no worker available; see Retry-After.");
        Problem(operation, document, StatusCodes.Status504GatewayTimeout, "Gateway: the request did not finish within the gateway's deadline.");
        foreach (var status in new[] { "429", "503" })
        {
            if (operation.Responses![status] is OpenApiResponse response)
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
                response.Headers.TryAdd("Retry-After", new OpenApiHeader
                {
                    Description = "Whole seconds to wait before retrying.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                });
            }
        }
    }

    /// <summary><c>/health/live</c> and <c>/health/ready</c>: plain-text health check answers.</summary>
    private static void AddHealthProbes(OpenApiDocument document)
    {
        var tag = new OpenApiTagReference("Health", document);
        document.Tags ??= new HashSet<OpenApiTag>();
        if (!document.Tags.Any(t => t.Name == "Health"))
        {
            document.Tags.Add(new OpenApiTag { Name = "Health" });
        }

        OpenApiResponse Text(string description, params string[] values) => new()
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                ["text/plain"] = new()
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] },
                },
            },
        };

        document.Paths["/health/live"] = Get("HealthLive", "Liveness: the process answers", tag, new OpenApiResponses
        {
            ["200"] = Text("The process is alive.", "Healthy"),
        });
        document.Paths["/health/ready"] = Get("HealthReady", "Readiness: the model is loaded and warmed up, and the worker is not draining", tag, new OpenApiResponses
        {
            ["200"] = Text("Ready for traffic.", "Healthy", "Degraded"),
            ["503"] = Text("Not ready (loading, warming up, draining).", "Unhealthy"),
        });
    }

    private static OpenApiPathItem Get(string id, string summary, OpenApiTagReference tag, OpenApiResponses responses)
    {
        var item = new OpenApiPathItem();
        item.AddOperation(HttpMethod.Get, new OpenApiOperation
        {
            OperationId = id,
            Summary = summary,
            Tags = new HashSet<OpenApiTagReference> { tag },
            Responses = responses,
        });
        return item;
    }

    private static async Task DescribeBodiesAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var (_, item) in document.Paths)
        {
            foreach (var (_, operation) in item.Operations ?? [])
            {
                switch (operation.OperationId)
                {
                    case "Preprocess":
                        // The stage decides the answer: the model input (default) or the millivolt leads.
                        var ok = Json(operation, "200");
                        ok.Schema = new OpenApiSchema
                        {
                            OneOf =
                            [
                                await ComponentAsync(document, context, typeof(ModelInputView), cancellationToken),
                                await ComponentAsync(document, context, typeof(MillivoltView), cancellationToken),
                            ],
                        };
                        break;
                    case "PredictBatch":
                        var batch = (OpenApiResponse)operation.Responses!["200"];
                        var items = Json(operation, "200").Schema!.Items!;
                        batch.Description = "One answer per record, in input order, each written as soon as it is done: a JSON array, " +
                            "NDJSON (one item per line; the schema is that of a line) or CSV, chosen by Accept or ?format=.";
                        batch.Content!["application/x-ndjson"] = new OpenApiMediaType { Schema = items };
                        batch.Content["text/csv"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
                        batch.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
                        batch.Headers[BatchPredictionsApi.RecordsHeader] = new OpenApiHeader
                        {
                            Description = "How many records the upload holds (the number of answers that follow).",
                            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                        };
                        break;
                    case "AuditQuery":
                        var page = (OpenApiResponse)operation.Responses!["200"];
                        page.Content!["text/csv"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
                        break;
                    case "Infer" or "InferVersion":
                        DescribeBinaryExtension(operation);
                        break;
                }
            }
        }
    }

    /// <summary>The binary tensor extension: JSON header, then raw little-endian tensors (request and answer).</summary>
    private static void DescribeBinaryExtension(OpenApiOperation operation)
    {
        var binary = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Format = "binary",
                Description = $"The inference request JSON ({InferRequestReader.HeaderContentLength} bytes), then each input's " +
                    "parameters.binary_data_size bytes of little-endian FP32. With a header length of 0 the body is one raw FP32 " +
                    "[1, samples, leads] tensor, and the outputs come back as binary data.",
            },
        };
        if (operation.RequestBody is OpenApiRequestBody body)
        {
            body.Required = true;
            body.Content ??= new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal);
            body.Content["application/octet-stream"] = binary;
        }

        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = InferRequestReader.HeaderContentLength,
            In = ParameterLocation.Header,
            Description = "Binary tensor extension: the length of the JSON at the start of the body (0: the body is one raw FP32 tensor).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
        });

        var ok = (OpenApiResponse)operation.Responses!["200"];
        ok.Content!["application/octet-stream"] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Format = "binary",
                Description = $"When an output was asked for as binary data: the response JSON ({InferRequestReader.HeaderContentLength} " +
                    "bytes), then those outputs' bytes of little-endian FP32 in order.",
            },
        };
        ok.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        ok.Headers[InferRequestReader.HeaderContentLength] = new OpenApiHeader
        {
            Description = "With binary outputs: the length of the JSON at the start of the body.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
        };
    }

    private static OpenApiMediaType Json(OpenApiOperation operation, string status) =>
        (OpenApiMediaType)((OpenApiResponse)operation.Responses![status]).Content!["application/json"];

    /// <summary>A reference to the component schema of <paramref name="type"/>, added when no route made it one.</summary>
    private static async Task<IOpenApiSchema> ComponentAsync(
        OpenApiDocument document, OpenApiDocumentTransformerContext context, Type type, CancellationToken cancellationToken)
    {
        document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        if (!document.Components.Schemas.ContainsKey(type.Name))
        {
            document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        }

        return new OpenApiSchemaReference(type.Name, document);
    }
}
