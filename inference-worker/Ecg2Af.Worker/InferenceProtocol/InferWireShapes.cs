using System.Text.Json;

namespace Ecg2Af.Worker.InferenceProtocol;

// The JSON of an OIP inference request and response, as types for the OpenAPI document only: the endpoints read and
// write this JSON with Utf8JsonReader/Writer (InferRequestReader, InferResponseWriter) so that tensors never pass
// through an object model. Keep these in step with those two; the schema-validation tests check real answers
// against the document built from them.

/// <summary>An inference request: the model's one input tensor, the outputs wanted and the request's options.</summary>
internal sealed record InferRequestShape(
    string? Id,
    InferRequestParametersShape? Parameters,
    IReadOnlyList<InferInputShape> Inputs,
    IReadOnlyList<InferRequestedOutputShape>? Outputs);

/// <summary>
/// Request options: <c>priority</c> (stat, routine, batch, or a schedule-policy level 0–3), <c>timeout</c>
/// (microseconds; 0 means none of its own) and <c>binary_data_output</c> (every output as binary data after the JSON).
/// </summary>
internal sealed record InferRequestParametersShape(JsonElement? Priority, long? Timeout, bool? BinaryDataOutput);

/// <summary>
/// An input tensor, FP32 <c>[N, samples, leads]</c>: its values in <c>data</c> (flat or nested, row-major) or, with the
/// binary tensor extension, <c>parameters.binary_data_size</c> little-endian bytes after the JSON.
/// </summary>
internal sealed record InferInputShape(
    string Name,
    string Datatype,
    IReadOnlyList<long> Shape,
    JsonElement? Data,
    InferTensorParametersShape? Parameters);

/// <summary>Tensor options: <c>binary_data_size</c>, the byte length of the tensor in the binary section.</summary>
internal sealed record InferTensorParametersShape(long? BinaryDataSize);

/// <summary>An output the client wants, optionally as binary data.</summary>
internal sealed record InferRequestedOutputShape(string Name, InferOutputParametersShape? Parameters);

internal sealed record InferOutputParametersShape(bool? BinaryData);

/// <summary>
/// An inference response: the model and version that answered, the request's id, provenance and serving facts
/// (execution provider, weights, model SHA-256, batch size, queue and compute milliseconds, priority, notice), and one
/// FP32 <c>[N, head size]</c> tensor per output, in <c>data</c> or, when asked for, as binary data.
/// </summary>
internal sealed record InferResponseShape(
    string ModelName,
    string ModelVersion,
    string? Id,
    IReadOnlyDictionary<string, JsonElement> Parameters,
    IReadOnlyList<InferOutputShape> Outputs);

internal sealed record InferOutputShape(
    string Name,
    string Datatype,
    IReadOnlyList<long> Shape,
    IReadOnlyList<float>? Data,
    InferTensorParametersShape? Parameters);
