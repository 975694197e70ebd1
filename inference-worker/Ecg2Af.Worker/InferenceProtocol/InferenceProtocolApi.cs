using System.Diagnostics;
using System.Reflection;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Worker.InferenceProtocol.Grpc;
using Ecg2Af.Security;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.Security;
using Ecg2Af.Worker.Models;
using Ecg2Af.Worker.OpenApi;
using Ecg2Af.Worker.Serving;
using Ecg2Af.Worker.Uploads;

namespace Ecg2Af.Worker.InferenceProtocol;

/// <summary>
/// The Open Inference Protocol (KServe v2 / Triton) REST API: server live, ready and metadata; model metadata and
/// readiness, with or without a version; inference with JSON tensors and the binary tensor extension. Errors are
/// <c>{"error": "..."}</c> with the status codes of docs/serving.md.
/// </summary>
internal static class InferenceProtocolApi
{
    public const string ServerName = "ecg2af-inference-worker";

    /// <summary>The audit operation of an OIP inference request.</summary>
    public const string AuditOperation = "infer";

    /// <summary>What this server implements beyond the core protocol (Triton's extension names).</summary>
    public static IReadOnlyList<string> Extensions { get; } = ["binary_tensor_data", "schedule_policy", "parameters"];

    public static readonly string ServerVersion =
        typeof(InferenceProtocolApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The shared OIP core (REST and gRPC) and the gRPC service with its listener, health and reflection.</summary>
    public static WebApplicationBuilder AddInferenceProtocol(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ProtocolInference>();
        builder.AddGrpcInference();
        return builder;
    }

    public static IEndpointRouteBuilder MapInferenceProtocol(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2").WithTags("Open Inference Protocol");
        v2.MapGet("", () => TypedResults.Ok(new ServerMetadata(ServerName, ServerVersion, Extensions)))
            .WithName("ServerMetadata")
            .WithSummary("Server name, version and protocol extensions");
        v2.MapGet("/health/live", () => TypedResults.Ok(new ServerLive(true)))
            .WithName("ServerLive")
            .WithSummary("Server liveness");
        v2.MapGet("/health/ready", (ModelCatalog catalog, InferenceScheduler scheduler, WarmUpHost warmUp) =>
            ModelReadyHealthCheck.IsReady(catalog, scheduler, warmUp)
                ? TypedResults.Json(new ServerReady(true))
                : TypedResults.Json(new ServerReady(false), statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithName("ServerReady")
            .WithSummary("Server readiness: the default model is loaded and warmed up")
            .Produces<ServerReady>(StatusCodes.Status200OK)
            .Produces<ServerReady>(StatusCodes.Status503ServiceUnavailable);
        v2.MapGet("/models/{model}", (string model, ProtocolInference inference, HttpResponse response) => Metadata(inference, response, model, null))
            .WithName("ModelMetadata")
            .WithSummary("Model metadata: versions, platform, input and output tensors")
            .Produces<ModelMetadata>(StatusCodes.Status200OK)
            .ProducesProtocolErrors(404, 503)
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapGet("/models/{model}/versions/{version}", (string model, string version, ProtocolInference inference, HttpResponse response) =>
            Metadata(inference, response, model, version))
            .WithName("ModelVersionMetadata")
            .WithSummary("Metadata of one model version")
            .Produces<ModelMetadata>(StatusCodes.Status200OK)
            .ProducesProtocolErrors(404, 503)
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapGet("/models/{model}/ready", (string model, ProtocolInference inference) => Ready(inference, model, null))
            .WithName("ModelReady")
            .WithSummary("Model readiness")
            .Produces<ModelReady>(StatusCodes.Status200OK)
            .Produces<ModelReady>(StatusCodes.Status503ServiceUnavailable)
            .ProducesProtocolErrors(404)
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapGet("/models/{model}/versions/{version}/ready", (string model, string version, ProtocolInference inference) => Ready(inference, model, version))
            .WithName("ModelVersionReady")
            .WithSummary("Readiness of one model version")
            .Produces<ModelReady>(StatusCodes.Status200OK)
            .Produces<ModelReady>(StatusCodes.Status503ServiceUnavailable)
            .ProducesProtocolErrors(404)
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapPost("/models/{model}/infer", (HttpContext context, string model) => InferAsync(context, model, null))
            .WithName("Infer")
            .WithSummary("Inference: FP32 [N, samples, leads] in, one tensor per output head out")
            .WithInferenceDocs()
            .DisableAntiforgery()
            .RequireApiKey(ApiKeyScopes.Predict)
            .WithAudit(AuditOperation);
        v2.MapPost("/models/{model}/versions/{version}/infer", (HttpContext context, string model, string version) => InferAsync(context, model, version))
            .WithName("InferVersion")
            .WithSummary("Inference on one model version")
            .WithInferenceDocs()
            .DisableAntiforgery()
            .RequireApiKey(ApiKeyScopes.Predict)
            .WithAudit(AuditOperation);
        v2.MapPost("/repository/index", (ModelCatalog catalog) => TypedResults.Ok(
            catalog.Models.Values.OrderBy(m => m.Name, StringComparer.Ordinal)
                .SelectMany(m => m.Versions.Select(v => new RepositoryEntry(m.Name, v.Version, State(v.State), v.Reason ?? "")))
                .ToList()))
            .WithName("RepositoryIndex")
            .WithSummary("Every model version in the repository and its state (READY, LOADING, UNAVAILABLE)")
            .RequireApiKey(ApiKeyScopes.Predict);
        return app;
    }

    /// <summary>The inference routes' bodies and answers (the binary extension is added by the document's transformer).</summary>
    private static RouteHandlerBuilder WithInferenceDocs(this RouteHandlerBuilder builder) => builder
        .WithDescription("JSON tensors, or the binary tensor extension (Inference-Header-Content-Length). Audited like a " +
            "prediction: the X-Ecg2Af-Audit-Id header names the record. Errors are {\"error\": \"…\"}.")
        .WithParameters(EndpointDocs.AdmissionHeaders)
        .WithJsonBody<InferRequestShape>("An inference request with JSON tensors (the binary extension: below).")
        .Produces<InferResponseShape>(StatusCodes.Status200OK, "application/json")
        .ProducesProtocolErrors(400, 404, 413, 500, 503, 504);

    /// <summary>An OIP error: <c>{"error": message}</c>, with Retry-After on 503 when given.</summary>
    public static IResult Error(HttpResponse response, int status, string message, TimeSpan? retryAfter = null)
    {
        ServingProblems.SetRetryAfter(response, retryAfter);
        return TypedResults.Json(new ProtocolError(message), statusCode: status);
    }

    /// <summary>An OIP error for a request that was not served.</summary>
    public static IResult Error(HttpResponse response, ProtocolFailure failure) =>
        Error(response, failure.HttpStatus, failure.Message, failure.Kind == ProtocolFailureKind.Unavailable ? failure.RetryAfter : null);

    private static IResult Metadata(ProtocolInference inference, HttpResponse response, string model, string? version)
    {
        try
        {
            return TypedResults.Ok(inference.Describe(model, version));
        }
        catch (ProtocolFailure e)
        {
            return TypedResults.Json(new ProtocolError(e.Message), statusCode: e.HttpStatus);
        }
    }

    private static IResult Ready(ProtocolInference inference, string model, string? version)
    {
        try
        {
            return inference.IsModelReady(model, version)
                ? TypedResults.Json(new ModelReady(model, true))
                : TypedResults.Json(new ModelReady(model, false), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (ProtocolFailure e)
        {
            return TypedResults.Json(new ProtocolError(e.Message), statusCode: e.HttpStatus);
        }
    }

    private static async Task<IResult> InferAsync(HttpContext context, string model, string? version)
    {
        var started = Stopwatch.GetTimestamp();
        var inference = context.RequestServices.GetRequiredService<ProtocolInference>();
        var serving = inference.Serving;
        var response = context.Response;
        var cancellationToken = context.RequestAborted;
        var audit = AuditScope.Of(context);
        try
        {
            using var lease = inference.Acquire(model, version);
            var target = lease.Version;
            audit?.Target = target;

            // Overload is answered before the body is read: a refused request costs no parsing.
            if (AdmissionReader.RefuseBeforeBody(context.Request, inference.Scheduler, target, Priority.Routine, "v2_infer") is { } early)
            {
                return Error(response, ServingProblems.Status(early.Reason), early.Message, early.RetryAfter);
            }

            InferRequestBody body;
            try
            {
                body = await InferRequestReader.ReadAsync(context.Request, target, serving.MaxBatchSize, cancellationToken);
            }
            catch (InferRequestException e)
            {
                ServingMetrics.InvalidInput(target.ModelName, target.ModelVersion, Priority.Routine);
                return Error(response, e.Status, e.Message);
            }
            catch (Exception e) when (RequestEnvelopeFilter.Status(e, context) is { } status)
            {
                return Error(response, status, $"The request body could not be read: {e.Message}");
            }

            using (body)
            {
                if (!AdmissionReader.TryRead(context.Request, body.Priority, body.Timeout, serving, started, out var admission, out var invalid))
                {
                    ServingMetrics.InvalidInput(target.ModelName, target.ModelVersion, Priority.Routine);
                    return Error(response, StatusCodes.Status400BadRequest, invalid.Message);
                }

                var result = await inference.RunAsync(target, body, admission, cancellationToken);
                if (!InferResponseWriter.JsonOutputsFinite(body, target, result))
                {
                    context.RequestServices.GetRequiredService<ILogger<InferenceScheduler>>().NonFiniteOutput(target.ModelName, target.ModelVersion);
                    return Error(response, StatusCodes.Status500InternalServerError,
                        "The model produced a non-finite output for this input, which JSON cannot carry; it was logged. Ask for binary outputs to see the raw values.");
                }

                // The record commits before the first byte of the answer, as for every audited route.
                if (audit is not null && !await audit.CommitBeforeResponseAsync(context, StatusCodes.Status200OK))
                {
                    return Error(response, StatusCodes.Status503ServiceUnavailable,
                        "This request could not be recorded in the audit trail, so no result is returned. Retry in a few seconds.", TimeSpan.FromSeconds(5));
                }

                await InferResponseWriter.WriteAsync(response, body, target, result, admission.Priority, cancellationToken);
                ServingMetrics.Completed(target.ModelName, target.ModelVersion, "v2_infer", Stopwatch.GetElapsedTime(started));
                return TypedResults.Empty;
            }
        }
        catch (ProtocolFailure e)
        {
            return Error(response, e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; its request left the queue without being computed (499: client closed request).
            return TypedResults.StatusCode(499);
        }
    }

    private static string State(VersionState state) => state switch
    {
        VersionState.Ready => "READY",
        VersionState.Loading => "LOADING",
        _ => "UNAVAILABLE",
    };
}

internal sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

internal sealed record ServerLive(bool Live);

internal sealed record ServerReady(bool Ready);

internal sealed record ModelReady(string Name, bool Ready);

internal sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

internal sealed record ModelMetadata(
    string Name,
    IReadOnlyList<string> Versions,
    string Platform,
    IReadOnlyList<TensorMetadata> Inputs,
    IReadOnlyList<TensorMetadata> Outputs,
    IReadOnlyDictionary<string, object> Parameters);

internal sealed record RepositoryEntry(string Name, string Version, string State, string Reason);

internal sealed record ProtocolError(string Error);
