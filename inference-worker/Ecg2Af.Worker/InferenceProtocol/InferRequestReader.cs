using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Microsoft.AspNetCore.Http.Features;

namespace Ecg2Af.Worker.InferenceProtocol;

/// <summary>An output the client asked for, and whether it wants it as binary data.</summary>
internal sealed record RequestedOutput(string Name, bool? Binary);

/// <summary>A parsed OIP inference request: its input already in a pooled buffer, plus the request's options.</summary>
internal sealed class InferRequestBody : IDisposable
{
    public string? Id { get; set; }

    /// <summary><c>parameters.priority</c> as text (a lane name or a schedule-policy level).</summary>
    public string? Priority { get; set; }

    /// <summary><c>parameters.timeout</c> (microseconds on the wire).</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary><c>parameters.binary_data_output</c>, or true for a raw binary request.</summary>
    public bool BinaryOutputs { get; set; }

    public List<RequestedOutput>? Outputs { get; set; }

    public TensorBuffer? Input { get; set; }

    public int Items { get; set; }

    /// <summary>Hands the input buffer to the scheduler.</summary>
    public TensorBuffer TakeInput()
    {
        var input = Input ?? throw new InvalidOperationException("The input was taken already.");
        Input = null;
        return input;
    }

    public void Dispose() => Input?.Dispose();
}

/// <summary>A request the protocol cannot accept; the message says what is wrong.</summary>
internal sealed class InferRequestException(string message, int status = StatusCodes.Status400BadRequest) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Reads an OIP v2 inference request body for one model version: JSON tensors (flat or nested <c>data</c>), the binary
/// tensor extension (<c>Inference-Header-Content-Length</c> = JSON length, raw little-endian tensors after it, sized
/// by each input's <c>parameters.binary_data_size</c>), and the raw binary form (<c>Inference-Header-Content-Length: 0</c>,
/// the body is one FP32 item). The input must be the model's one input, FP32, shape [N, samples, leads].
/// </summary>
internal static class InferRequestReader
{
    public const string HeaderContentLength = "Inference-Header-Content-Length";

    public static async Task<InferRequestBody> ReadAsync(HttpRequest request, ServedVersion target, int maxBatch, CancellationToken cancellationToken)
    {
        var (buffer, length) = await ReadBodyAsync(request, cancellationToken);
        try
        {
            var body = buffer.AsSpan(0, length);
            var headerText = request.Headers[HeaderContentLength].ToString();
            int? headerLength = null;
            if (headerText.Length > 0)
            {
                if (!int.TryParse(headerText, NumberStyles.None, CultureInfo.InvariantCulture, out var h) || h > length)
                {
                    throw new InferRequestException($"{HeaderContentLength} must be a byte count no larger than the body ({length} bytes).");
                }

                headerLength = h;
            }

            return headerLength == 0
                ? ReadRaw(body, target)
                : Parse(headerLength is { } json ? body[..json] : body, headerLength is { } start ? body[start..] : [], target, maxBatch);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first buffer a body is read into; it doubles as the body grows, never past the size limit.</summary>
    private const int InitialBuffer = 64 * 1024;

    /// <summary>
    /// Reads the whole body into a pooled buffer. The limit (Kestrel's <c>MaxRequestBodySize</c>, <c>Uploads:MaxRequestBytes</c>)
    /// is checked against the declared <c>Content-Length</c> before anything is allocated (413), and against what
    /// arrives while reading; the buffer grows with the bytes that came, never with what the client declared.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limit = Math.Min(
            request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? int.MaxValue,
            Array.MaxLength);
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? InitialBuffer, 16, Math.Min(InitialBuffer, limit)));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length || length >= limit)
                {
                    if (length >= limit)
                    {
                        // Only an end of body may follow; anything more is over the limit.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken) == 0)
                        {
                            return (buffer, length);
                        }

                        throw TooLarge(limit);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length, (int)Math.Min(buffer.Length - length, limit - length)), cancellationToken);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static InferRequestException TooLarge(long limit) => new(
        $"The request body is larger than this worker takes ({limit} bytes).", StatusCodes.Status413PayloadTooLarge);

    private static InferRequestBody ReadRaw(ReadOnlySpan<byte> body, ServedVersion target)
    {
        var bytes = target.InputLength * sizeof(float);
        if (body.Length != bytes)
        {
            throw new InferRequestException(
                $"A raw binary request ({HeaderContentLength}: 0) must be exactly one FP32 [1, {target.Signature.Input.Samples}, {target.Signature.Input.Leads.Count}] tensor: {bytes} bytes, not {body.Length}.");
        }

        var result = new InferRequestBody { BinaryOutputs = true, Items = 1 };
        result.Input = TensorPool.Shared.Rent(target.InputLength);
        try
        {
            InferInput.CopyLittleEndian(body, result.Input.Span, target.Signature.Input.Name);
        }
        catch
        {
            result.Dispose();
            throw;
        }

        return result;
    }

    private static InferRequestBody Parse(ReadOnlySpan<byte> json, ReadOnlySpan<byte> binary, ServedVersion target, int maxBatch)
    {
        var result = new InferRequestBody();
        InputTensor? input = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            Expect(ref reader, JsonTokenType.StartObject, "The request body must be a JSON object.");
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                var property = reader.GetString();
                reader.Read();
                switch (property)
                {
                    case "id":
                        result.Id = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new InferRequestException("'id' must be a string.");
                        break;
                    case "parameters":
                        ReadRequestParameters(ref reader, result);
                        break;
                    case "inputs":
                        Expect(ref reader, JsonTokenType.StartArray, "'inputs' must be an array.", current: true);
                        while (Next(ref reader) != JsonTokenType.EndArray)
                        {
                            if (input is not null)
                            {
                                throw new InferRequestException($"Model {target.ModelName} takes one input ('{target.Signature.Input.Name}'); the request has more.");
                            }

                            input = ReadInput(ref reader);
                        }

                        break;
                    case "outputs":
                        result.Outputs = ReadOutputs(ref reader);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (input is null)
            {
                throw new InferRequestException($"The request has no inputs; model {target.ModelName} takes '{target.Signature.Input.Name}'.");
            }

            (result.Input, result.Items) = input.Materialize(binary, target, maxBatch);
            InferInput.CheckOutputs(result.Outputs, target);
            return result;
        }
        catch (JsonException e)
        {
            result.Dispose();
            throw new InferRequestException($"The request is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.InnerException is System.Text.DecoderFallbackException || e.Source == typeof(Utf8JsonReader).Assembly.GetName().Name)
        {
            // The JSON reader refuses text it cannot decode (invalid UTF-8 in a string) this way.
            result.Dispose();
            throw new InferRequestException($"The request is not valid JSON: {e.Message}");
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            input?.Dispose();
        }
    }

    private static void ReadRequestParameters(ref Utf8JsonReader reader, InferRequestBody result)
    {
        Expect(ref reader, JsonTokenType.StartObject, "'parameters' must be an object.", current: true);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "priority":
                    result.Priority = reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number when reader.TryGetInt64(out var level) => level.ToString(CultureInfo.InvariantCulture),
                        _ => throw new InferRequestException("'parameters.priority' must be stat, routine, batch or a level 0-3."),
                    };
                    break;
                case "timeout":
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var micros) || micros < 0)
                    {
                        throw new InferRequestException("'parameters.timeout' must be a whole number of microseconds (0: no timeout of its own).");
                    }

                    result.Timeout = micros == 0 ? null : TimeSpan.FromMicroseconds(Math.Min(micros, (long)TimeSpan.FromDays(1).TotalMicroseconds));
                    break;
                case "binary_data_output":
                    result.BinaryOutputs = ReadBool(ref reader, "'parameters.binary_data_output'");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private static InputTensor ReadInput(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject, "Each input must be an object.", current: true);
        var input = new InputTensor();
        try
        {
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "name":
                        input.Name = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new InferRequestException("An input's 'name' must be a string.");
                        break;
                    case "datatype":
                        input.Datatype = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new InferRequestException("An input's 'datatype' must be a string.");
                        break;
                    case "shape":
                        input.Shape = ReadShape(ref reader);
                        break;
                    case "parameters":
                        Expect(ref reader, JsonTokenType.StartObject, "An input's 'parameters' must be an object.", current: true);
                        while (Next(ref reader) == JsonTokenType.PropertyName)
                        {
                            var parameter = reader.GetString();
                            reader.Read();
                            if (parameter == "binary_data_size")
                            {
                                input.BinarySize = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var size) && size >= 0
                                    ? size
                                    : throw new InferRequestException("'binary_data_size' must be a byte count.");
                            }
                            else
                            {
                                reader.Skip();
                            }
                        }

                        break;
                    case "data":
                        input.ReadData(ref reader);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            return input;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static long[] ReadShape(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "An input's 'shape' must be an array of integers.", current: true);
        var shape = new List<long>(3);
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim) || dim < 0)
            {
                throw new InferRequestException("An input's 'shape' must be an array of non-negative integers.");
            }

            shape.Add(dim);
        }

        return [.. shape];
    }

    private static List<RequestedOutput> ReadOutputs(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "'outputs' must be an array.", current: true);
        var outputs = new List<RequestedOutput>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartObject, "Each requested output must be an object.", current: true);
            string? name = null;
            bool? binary = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                var property = reader.GetString();
                reader.Read();
                if (property == "name")
                {
                    name = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new InferRequestException("An output's 'name' must be a string.");
                }
                else if (property == "parameters")
                {
                    Expect(ref reader, JsonTokenType.StartObject, "An output's 'parameters' must be an object.", current: true);
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        var parameter = reader.GetString();
                        reader.Read();
                        if (parameter == "binary_data")
                        {
                            binary = ReadBool(ref reader, "'binary_data'");
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            outputs.Add(new RequestedOutput(name ?? throw new InferRequestException("Each requested output needs a 'name'."), binary));
        }

        return outputs;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string what) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw new InferRequestException($"{what} must be true or false."),
    };

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new InferRequestException("The request JSON ends early.");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message, bool current = false)
    {
        if (!current && !reader.Read())
        {
            throw new InferRequestException(message);
        }

        if (reader.TokenType != type)
        {
            throw new InferRequestException(message);
        }
    }

    /// <summary>One input as read from the JSON; its JSON data is gathered in a growing pooled array.</summary>
    private sealed class InputTensor : IDisposable
    {
        private float[]? _data;
        private int _count;

        public string? Name { get; set; }

        public string? Datatype { get; set; }

        public long[]? Shape { get; set; }

        public long? BinarySize { get; set; }

        private bool HasData => _data is not null;

        public void ReadData(ref Utf8JsonReader reader)
        {
            Expect(ref reader, JsonTokenType.StartArray, "An input's 'data' must be an array of numbers (flat or nested).", current: true);
            _data = ArrayPool<float>.Shared.Rent(60_000);
            var depth = 1;
            while (depth > 0)
            {
                switch (Next(ref reader))
                {
                    case JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.Number:
                        if (!reader.TryGetSingle(out var value) || !float.IsFinite(value))
                        {
                            throw new InferRequestException("An input's 'data' holds a number outside the FP32 range.");
                        }

                        if (_count == _data.Length)
                        {
                            var larger = ArrayPool<float>.Shared.Rent(checked(_data.Length * 2));
                            _data.AsSpan(0, _count).CopyTo(larger);
                            ArrayPool<float>.Shared.Return(_data);
                            _data = larger;
                        }

                        _data[_count++] = value;
                        break;
                    default:
                        throw new InferRequestException("An input's 'data' must hold only numbers (FP32).");
                }
            }
        }

        /// <summary>Checks the input against the model and copies it into a pooled buffer: (buffer, batch items).</summary>
        public (TensorBuffer Buffer, int Items) Materialize(ReadOnlySpan<byte> binary, ServedVersion target, int maxBatch)
        {
            var spec = target.Signature.Input;
            var items = InferInput.Check(Name, Datatype, Shape, target, maxBatch);
            var count = items * target.InputLength;
            var buffer = TensorPool.Shared.Rent(count);
            try
            {
                if (BinarySize is { } size)
                {
                    if (HasData)
                    {
                        throw new InferRequestException($"Input '{spec.Name}' has both 'data' and 'binary_data_size'.");
                    }

                    if (size != (long)count * sizeof(float))
                    {
                        throw new InferRequestException($"Input '{spec.Name}' [{items}, {spec.Samples}, {spec.Leads.Count}] FP32 is {count * sizeof(float)} bytes; binary_data_size says {size}.");
                    }

                    if (binary.Length != size)
                    {
                        throw new InferRequestException($"The binary section after the JSON holds {binary.Length} bytes; the inputs declare {size}.");
                    }

                    InferInput.CopyLittleEndian(binary, buffer.Span, spec.Name);
                }
                else
                {
                    if (!HasData)
                    {
                        throw new InferRequestException($"Input '{spec.Name}' has neither 'data' nor 'parameters.binary_data_size'.");
                    }

                    if (_count != count)
                    {
                        throw new InferRequestException($"Input '{spec.Name}' with shape [{items}, {spec.Samples}, {spec.Leads.Count}] needs {count} values; 'data' holds {_count}.");
                    }

                    if (binary.Length != 0)
                    {
                        throw new InferRequestException($"The body has {binary.Length} binary bytes after the JSON, but no input declares binary_data_size.");
                    }

                    _data.AsSpan(0, count).CopyTo(buffer.Span);
                }

                return (buffer, items);
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (_data is not null)
            {
                ArrayPool<float>.Shared.Return(_data);
                _data = null;
            }
        }
    }
}
