using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ecg2Af.Worker.OpenApi;

/// <summary>
/// Marks as <c>required</c> every property of an Ecg2Af type that the serializer always writes: the ones not
/// annotated nullable. The answers leave null values out (<c>WhenWritingNull</c>), so a nullable property may be
/// absent and is never required. Without this the schemas would require nothing, and validating an answer against
/// them would prove little.
/// </summary>
internal static class RequiredProperties
{
    public static Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo;
        if (type.Kind == JsonTypeInfoKind.Object
            && type.Type.Namespace?.StartsWith("Ecg2Af", StringComparison.Ordinal) == true)
        {
            schema.Required = new HashSet<string>(
                type.Properties.Where(p => p.Get is not null && !p.IsGetNullable).Select(p => p.Name), StringComparer.Ordinal);
        }

        return Task.CompletedTask;
    }
}
