using Ecg2Af.Security;
using Ecg2Af.Worker.Security;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ecg2Af.Worker.OpenApi;

/// <summary>
/// What each operation's own metadata says beyond the framework's view: the multipart form or JSON body it reads
/// (<see cref="FormBody"/>, <see cref="JsonBody"/>), the parameters it reads by hand (<see cref="DocumentedParameter"/>), and its API key rule
/// (<see cref="ApiKeyRequirement"/>, the one the worker enforces): the security requirement with the scope, and the
/// 401 and 403 answers.
/// </summary>
internal static class OperationFacts
{
    public static async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<FormBody>().LastOrDefault() is { } form)
        {
            operation.RequestBody = FormFields.RequestBody(form);
        }

        if (metadata.OfType<JsonBody>().LastOrDefault() is { } json)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = !json.Optional,
                Description = json.Description,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(json.Type, null, cancellationToken) },
                },
            };
        }

        foreach (var parameter in metadata.OfType<DocumentedParameter>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameter.Name,
                In = parameter.In,
                Description = parameter.Description,
                Required = parameter.Required,
                Schema = new OpenApiSchema { Type = parameter.Type, Format = parameter.Format },
            });
        }

        if (metadata.OfType<ApiKeyRequirement>().LastOrDefault() is { } key)
        {
            var document = context.Document!;
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocument.BearerScheme, document)] = [key.Scope] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocument.HeaderScheme, document)] = [key.Scope] },
            ];
            if (!key.Required)
            {
                // An empty requirement: the route also answers without a key.
                operation.Security.Insert(0, new OpenApiSecurityRequirement());
            }

            DocumentFacts.Problem(operation, document, StatusCodes.Status401Unauthorized, key.Required
                ? $"No API key, or not a valid one (with WWW-Authenticate). Send 'Authorization: Bearer <key>' or '{ApiKeyCredentials.ApiKeyHeader}: <key>'."
                : "An API key was sent and is not valid (the route also works without one).");
            DocumentFacts.Problem(operation, document, StatusCodes.Status403Forbidden, $"The API key does not hold the '{key.Scope}' scope.");
        }
    }
}
