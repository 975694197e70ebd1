using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ecg2Af.Inference;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Worker.InferenceProtocol;

/// <summary>
/// Writes an OIP v2 inference response: <c>model_name</c>, <c>model_version</c>, <c>id</c> (when the request had one),
/// <c>parameters</c> (provenance and serving facts) and <c>outputs</c>, each FP32 [N, head size] as JSON <c>data</c> or,
/// when asked for, as binary data after the JSON (<c>Inference-Header-Content-Length</c> gives the JSON length).
/// </summary>
internal static class InferResponseWriter
{
    public static async Task WriteAsync(
        HttpResponse response, InferRequestBody request, ServedVersion version, InferenceResult result, Priority priority, CancellationToken cancellationToken)
    {
        var heads = version.Signature.Outputs;
        var selected = Selected(request, heads);

        var json = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name", version.ModelName);
            writer.WriteString("model_version", version.ModelVersion);
            if (request.Id is not null)
            {
                writer.WriteString("id", request.Id);
            }

            writer.WriteStartObject("parameters");
            writer.WriteString("execution_provider", version.ExecutionProvider);
            writer.WriteString("weights", version.Signature.Provenance.Weights);
            writer.WriteString("model_sha256", version.Model.OnnxSha256);
            writer.WriteNumber("batch_size", result.BatchSize);
            writer.WriteNumber("queue_ms", Math.Round(result.QueueTime.TotalMilliseconds, 3));
            writer.WriteNumber("compute_ms", Math.Round(result.ComputeTime.TotalMilliseconds, 3));
            writer.WriteString("priority", priority.Name());
            writer.WriteString("notice", Notices.For(version.Signature));
            writer.WriteEndObject();

            writer.WriteStartArray("outputs");
            foreach (var (index, binary) in selected)
            {
                var head = heads[index];
                var values = result.Outputs[index];
                writer.WriteStartObject();
                writer.WriteString("name", head.Name);
                writer.WriteString("datatype", "FP32");
                writer.WriteStartArray("shape");
                writer.WriteNumberValue(values.Length / head.Size);
                writer.WriteNumberValue(head.Size);
                writer.WriteEndArray();
                if (binary)
                {
                    writer.WriteStartObject("parameters");
                    writer.WriteNumber("binary_data_size", values.Length * sizeof(float));
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteStartArray("data");
                    foreach (var value in values)
                    {
                        writer.WriteNumberValue(value);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var binaryBytes = selected.Where(s => s.Binary).Sum(s => result.Outputs[s.Index].Length * sizeof(float));
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentLength = json.WrittenCount + binaryBytes;
        if (binaryBytes == 0)
        {
            response.ContentType = "application/json";
            await response.Body.WriteAsync(json.WrittenMemory, cancellationToken);
            return;
        }

        response.ContentType = "application/octet-stream";
        response.Headers[InferRequestReader.HeaderContentLength] = json.WrittenCount.ToString(CultureInfo.InvariantCulture);
        await response.Body.WriteAsync(json.WrittenMemory, cancellationToken);
        foreach (var (index, binary) in selected)
        {
            if (binary)
            {
                await response.Body.WriteAsync(LittleEndian(result.Outputs[index]), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Whether every output that will be written as JSON <c>data</c> is finite (JSON has no NaN or infinity): checked
    /// before anything is written, so a response never breaks off half-way.
    /// </summary>
    public static bool JsonOutputsFinite(InferRequestBody request, ServedVersion version, InferenceResult result)
    {
        var heads = version.Signature.Outputs;
        foreach (var (index, binary) in Selected(request, heads))
        {
            if (!binary && !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(result.Outputs[index]))
            {
                return false;
            }
        }

        return true;
    }

    private static List<(int Index, bool Binary)> Selected(InferRequestBody request, IReadOnlyList<SignatureOutput> heads) =>
        request.Outputs is { } wanted
            ? wanted.Select(o => (Index: IndexOf(heads, o.Name), Binary: o.Binary ?? request.BinaryOutputs)).ToList()
            : heads.Select((_, i) => (Index: i, Binary: request.BinaryOutputs)).ToList();

    private static int IndexOf(IReadOnlyList<SignatureOutput> heads, string name)
    {
        for (var i = 0; i < heads.Count; i++)
        {
            if (heads[i].Name == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"No output '{name}'.");
    }

    private static ReadOnlyMemory<byte> LittleEndian(float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        }

        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }
}
