using System.Diagnostics;
using System.Reflection;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Security;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.Security;
using Ecg2Af.Worker.Models;
using Ecg2Af.Worker.Serving;
using Microsoft.Extensions.Options;

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

    private static readonly string ServerVersion =
        typeof(InferenceProtocolApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapInferenceProtocol(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2");
        v2.MapGet("", () => TypedResults.Ok(new ServerMetadata(ServerName, ServerVersion, Extensions)));
        v2.MapGet("/health/live", () => TypedResults.Ok(new ServerLive(true)));
        v2.MapGet("/health/ready", (ModelCatalog catalog, InferenceScheduler scheduler, WarmUpHost warmUp) =>
            ModelReadyHealthCheck.IsReady(catalog, scheduler, warmUp)
                ? TypedResults.Json(new ServerReady(true))
                : TypedResults.Json(new ServerReady(false), statusCode: StatusCodes.Status503ServiceUnavailable));
        v2.MapGet("/models/{model}", (string model, ModelCatalog catalog) => Metadata(catalog, model, null))
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapGet("/models/{model}/versions/{version}", (string model, string version, ModelCatalog catalog) => Metadata(catalog, model, version))
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapGet("/models/{model}/ready", (string model, ModelCatalog catalog) => Ready(catalog, model, null))
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapGet("/models/{model}/versions/{version}/ready", (string model, string version, ModelCatalog catalog) => Ready(catalog, model, version))
            .RequireApiKey(ApiKeyScopes.Predict);
        v2.MapPost("/models/{model}/infer", (HttpContext context, string model) => InferAsync(context, model, null))
            .DisableAntiforgery()
            .RequireApiKey(ApiKeyScopes.Predict)
            .WithAudit(AuditOperation);
        v2.MapPost("/models/{model}/versions/{version}/infer", (HttpContext context, string model, string version) => InferAsync(context, model, version))
            .DisableAntiforgery()
            .RequireApiKey(ApiKeyScopes.Predict)
            .WithAudit(AuditOperation);
        v2.MapPost("/repository/index", (ModelCatalog catalog) => TypedResults.Ok(
            catalog.Models.Values.OrderBy(m => m.Name, StringComparer.Ordinal)
                .SelectMany(m => m.Versions.Select(v => new RepositoryEntry(m.Name, v.Version, State(v.State), v.Reason ?? "")))
                .ToList()))
            .RequireApiKey(ApiKeyScopes.Predict);
        return app;
    }

    /// <summary>An OIP error: <c>{"error": message}</c>, with Retry-After on 503 when given.</summary>
    public static IResult Error(HttpResponse response, int status, string message, TimeSpan? retryAfter = null)
    {
        ServingProblems.SetRetryAfter(response, retryAfter);
        return TypedResults.Json(new ProtocolError(message), statusCode: status);
    }

    private static IResult Metadata(ModelCatalog catalog, string model, string? version)
    {
        var (status, served, message) = catalog.Resolve(model, version);
        if (served is null)
        {
            return TypedResults.Json(new ProtocolError(message), statusCode: ServingProblems.Status(status));
        }

        var signature = served.Signature;
        var input = signature.Input;
        var versions = catalog.Models.TryGetValue(model, out var view)
            ? view.Versions.Where(v => v.State == VersionState.Ready).Select(v => v.Version).ToList()
            : [served.ModelVersion];
        var parameters = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["version"] = served.ModelVersion,
            ["execution_provider"] = served.ExecutionProvider,
            ["weights"] = signature.Provenance.Weights,
            ["model_sha256"] = served.Model.OnnxSha256,
            ["sample_rate_hz"] = input.SampleRateHz,
            ["leads"] = string.Join(",", input.Leads),
            ["layout"] = input.Layout,
            ["notice"] = Notices.For(signature),
        };
        if (served.Model.Graph.Rewrite is { } rewrite)
        {
            parameters["graph_rewrite"] = rewrite;
            parameters["served_graph_sha256"] = served.Model.Graph.Sha256;
        }

        if (signature.Provenance.Decoder is { } decoder)
        {
            parameters["decoder"] = decoder;
        }

        return TypedResults.Ok(new ModelMetadata(
            served.ModelName,
            versions,
            ServingMetrics.Platform,
            [new TensorMetadata(input.Name, "FP32", [-1, input.Samples, input.Leads.Count])],
            signature.Outputs.Select(o => new TensorMetadata(o.Name, "FP32", [-1, o.Size])).ToList(),
            parameters));
    }

    private static IResult Ready(ModelCatalog catalog, string model, string? version)
    {
        var (status, served, message) = catalog.Resolve(model, version);
        return status switch
        {
            ResolveStatus.UnknownModel or ResolveStatus.UnknownVersion => TypedResults.Json(new ProtocolError(message), statusCode: StatusCodes.Status404NotFound),
            _ when served is not null => TypedResults.Json(new ModelReady(model, true)),
            _ => TypedResults.Json(new ModelReady(model, false), statusCode: StatusCodes.Status503ServiceUnavailable),
        };
    }

    private static async Task<IResult> InferAsync(HttpContext context, string model, string? version)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var catalog = services.GetRequiredService<ModelCatalog>();
        var scheduler = services.GetRequiredService<InferenceScheduler>();
        var serving = services.GetRequiredService<IOptions<SchedulerOptions>>().Value;
        var response = context.Response;
        var cancellationToken = context.RequestAborted;

        var resolution = catalog.Acquire(model, version);
        if (resolution.Lease is null)
        {
            var status = ServingProblems.Status(resolution.Status);
            return Error(response, status, resolution.Message, status == StatusCodes.Status503ServiceUnavailable ? TimeSpan.FromSeconds(1) : null);
        }

        using var lease = resolution.Lease;
        var target = lease.Version;
        var audit = AuditScope.Of(context);
        audit?.Target = target;
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
        catch (BadHttpRequestException e)
        {
            return Error(response, e.StatusCode, e.Message);
        }

        using (body)
        {
            if (!AdmissionReader.TryRead(context.Request, body.Priority, body.Timeout, serving, started, out var admission, out var invalid))
            {
                ServingMetrics.InvalidInput(target.ModelName, target.ModelVersion, Priority.Routine);
                return Error(response, StatusCodes.Status400BadRequest, invalid.Message);
            }

            InferenceResult result;
            try
            {
                var request = new InferenceRequest(target, body.TakeInput(), body.Items, admission.Priority, admission.DeadlineTimestamp);
                result = await scheduler.SubmitAsync(request, cancellationToken);
            }
            catch (InferenceRejectedException e)
            {
                return Error(response, ServingProblems.Status(e.Reason), e.Message, e.RetryAfter);
            }
            catch (InferenceFailedException e)
            {
                services.GetRequiredService<ILogger<InferenceScheduler>>().InferenceFailed(target.ModelName, target.ModelVersion, e);
                return Error(response, StatusCodes.Status500InternalServerError, "The model failed on this request; it was logged.");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The client went away; its request left the queue without being computed (499: client closed request).
                return TypedResults.StatusCode(499);
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
