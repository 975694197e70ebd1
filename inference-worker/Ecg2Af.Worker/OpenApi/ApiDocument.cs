using Microsoft.OpenApi;

namespace Ecg2Af.Worker.OpenApi;

/// <summary>
/// The OpenAPI 3.1 document of the REST API (<c>GET /openapi/v1.json</c>), built by ASP.NET Core's own OpenAPI support
/// from the endpoints' metadata: every route states its summary, request body and every status it answers with, and
/// three transformers add what the framework cannot see (<see cref="RequiredProperties"/>,
/// <see cref="OperationFacts"/>, <see cref="DocumentFacts"/>). The gateway serves this document at the same path and
/// its API reference page at <c>/docs</c>.
/// </summary>
internal static class ApiDocument
{
    public const string Name = "v1";

    /// <summary>The security scheme of <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public const string BearerScheme = "api_key";

    /// <summary>The security scheme of the <c>X-Api-Key</c> header (the same keys).</summary>
    public const string HeaderScheme = "api_key_header";

    public static WebApplicationBuilder AddApiDocument(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(Name, options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddSchemaTransformer(RequiredProperties.TransformAsync);
            options.AddOperationTransformer(OperationFacts.TransformAsync);
            options.AddDocumentTransformer(DocumentFacts.TransformAsync);
        });
        return builder;
    }

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}

/// <summary>
/// Endpoint metadata: the route reads a JSON body of this shape by hand. (Not the framework's <c>Accepts</c>: that
/// also makes routing refuse every other content type with 415, which would break the binary extension and clients
/// that send no content type.)
/// </summary>
internal sealed record JsonBody(Type Type, string Description, bool Optional);

/// <summary>Endpoint metadata: a query parameter or request header the handler reads by hand.</summary>
internal sealed record DocumentedParameter(
    string Name, ParameterLocation In, string Description, JsonSchemaType Type = JsonSchemaType.String, string? Format = null, bool Required = false);

/// <summary>The metadata the document is built from, attached where each route is mapped.</summary>
internal static class EndpointDocs
{
    /// <summary>The admission headers every inference route reads (<see cref="Serving.AdmissionReader"/>).</summary>
    public static readonly DocumentedParameter[] AdmissionHeaders =
    [
        new(Serving.AdmissionReader.PriorityHeader, ParameterLocation.Header, "Scheduling lane: stat, routine or batch (a form field or parameter of the request wins)."),
        new(Serving.AdmissionReader.DeadlineHeader, ParameterLocation.Header,
            "Milliseconds the client will wait; a request that cannot be computed in time is refused (503) or expires before compute (504).",
            JsonSchemaType.Number),
    ];

    /// <summary>ProblemDetails answers (<c>application/problem+json</c>); 400 is a validation problem with <c>errors</c> by field.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            if (status == StatusCodes.Status400BadRequest)
            {
                builder.ProducesValidationProblem();
            }
            else
            {
                builder.ProducesProblem(status);
            }
        }

        return builder;
    }

    /// <summary>Open Inference Protocol errors: <c>{"error": "…"}</c> as <c>application/json</c>.</summary>
    public static RouteHandlerBuilder ProducesProtocolErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<InferenceProtocol.ProtocolError>(status, "application/json");
        }

        return builder;
    }

    /// <summary>The route reads this multipart form (by hand, so the framework cannot infer it).</summary>
    public static RouteHandlerBuilder WithFormBody(this RouteHandlerBuilder builder, FormBody form) => builder.WithMetadata(form);

    /// <summary>The route reads a JSON body of type <typeparamref name="T"/> (by hand; see <see cref="JsonBody"/>).</summary>
    public static RouteHandlerBuilder WithJsonBody<T>(this RouteHandlerBuilder builder, string description, bool optional = false) =>
        builder.WithMetadata(new JsonBody(typeof(T), description, optional));

    public static RouteHandlerBuilder WithParameters(this RouteHandlerBuilder builder, params DocumentedParameter[] parameters) =>
        builder.WithMetadata(parameters);
}
