using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ecg2Af.Inference.Repository;
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
        var selected = ProtocolInference.SelectOutputs(request, version);

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
            foreach (var (name, value) in ProtocolInference.ResponseParameters(version, result, priority))
            {
                switch (value)
                {
                    case string text:
                        writer.WriteString(name, text);
                        break;
                    case long whole:
                        writer.WriteNumber(name, whole);
                        break;
                    case double number:
                        writer.WriteNumber(name, number);
                        break;
                }
            }

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
        foreach (var (index, binary) in ProtocolInference.SelectOutputs(request, version))
        {
            if (!binary && !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(result.Outputs[index]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The floats as little-endian bytes (a copy).</summary>
    public static byte[] LittleEndian(float[] values)
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
