using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Ecg2Af.Client.Rest;

/// <summary>One output tensor of an Open Inference Protocol answer.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Data">Its FP32 values, row-major, whether the service sent them as JSON or as binary data.</param>
public sealed record InferOutput(string Name, IReadOnlyList<long> Shape, float[] Data);

/// <summary>An Open Inference Protocol inference answer (REST or gRPC).</summary>
/// <param name="ModelName">The model that answered.</param>
/// <param name="ModelVersion">Its version.</param>
/// <param name="Outputs">The output tensors, in the order the service sent them.</param>
/// <param name="Header">
/// The answer's JSON (the header alone for a binary answer), with the service's further fields; over gRPC, the
/// answer message as protobuf JSON (proto field names) without the raw tensor bytes.
/// </param>
public sealed record InferResult(string ModelName, string ModelVersion, IReadOnlyList<InferOutput> Outputs, JsonElement Header)
{
    /// <summary>The output of that name.</summary>
    /// <param name="name">The output's name.</param>
    public InferOutput Output(string name) =>
        Outputs.FirstOrDefault(o => o.Name == name) ?? throw new KeyNotFoundException($"The answer has no output '{name}'.");

    /// <summary>Reads an answer: JSON tensors, or a JSON header and raw little-endian FP32 (binary tensor extension).</summary>
    /// <param name="body">The whole answer body.</param>
    /// <param name="headerLength">The <c>Inference-Header-Content-Length</c> header; null for an all-JSON answer.</param>
    public static InferResult Parse(ReadOnlySpan<byte> body, int? headerLength)
    {
        var jsonLength = headerLength ?? body.Length;
        if (jsonLength < 0 || jsonLength > body.Length)
        {
            throw new FormatException($"Inference-Header-Content-Length {jsonLength} does not fit an answer of {body.Length} bytes.");
        }

        using var json = JsonDocument.Parse(body[..jsonLength].ToArray());
        var root = json.RootElement.Clone();
        var binary = body[jsonLength..];
        var outputs = new List<InferOutput>();
        foreach (var output in root.GetProperty("outputs").EnumerateArray())
        {
            var shape = output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            float[] data;
            if (output.TryGetProperty("parameters", out var p) && p.TryGetProperty("binary_data_size", out var size))
            {
                var bytes = size.GetInt32();
                if (bytes > binary.Length || bytes % sizeof(float) != 0)
                {
                    throw new FormatException($"Output '{output.GetProperty("name").GetString()}' claims {bytes} binary bytes; {binary.Length} are left.");
                }

                data = MemoryMarshal.Cast<byte, float>(binary[..bytes]).ToArray();
                binary = binary[bytes..];
            }
            else
            {
                data = output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            }

            outputs.Add(new InferOutput(output.GetProperty("name").GetString()!, shape, data));
        }

        return new InferResult(
            root.GetProperty("model_name").GetString()!,
            root.TryGetProperty("model_version", out var v) ? v.ToString() : "",
            outputs,
            root);
    }

    internal static int? HeaderLength(HttpResponseMessage response) =>
        response.Headers.TryGetValues(Ecg2AfRequests.InferenceHeaderContentLength, out var values)
        || response.Content.Headers.TryGetValues(Ecg2AfRequests.InferenceHeaderContentLength, out values)
            ? int.Parse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture)
            : null;
}
