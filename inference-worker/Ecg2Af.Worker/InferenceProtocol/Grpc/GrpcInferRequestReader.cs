using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Google.Protobuf;
using Inference;

namespace Ecg2Af.Worker.InferenceProtocol.Grpc;

/// <summary>
/// Reads a gRPC <c>ModelInferRequest</c> into the same <see cref="InferRequestBody"/> the REST endpoint builds, with the
/// same checks (<see cref="InferInput"/>): one input, FP32 [N, samples, leads], its values either in
/// <c>raw_input_contents[0]</c> (little-endian bytes, as tritonclient sends them) or in <c>contents.fp32_contents</c>,
/// all finite; parameters <c>priority</c> and <c>timeout</c> (microseconds) as on REST.
/// </summary>
internal static class GrpcInferRequestReader
{
    public static InferRequestBody Read(ModelInferRequest request, ServedVersion target, int maxBatch)
    {
        var result = new InferRequestBody { Id = string.IsNullOrEmpty(request.Id) ? null : request.Id, BinaryOutputs = true };
        try
        {
            ReadParameters(request, result);
            if (request.Inputs.Count != 1)
            {
                throw new InferRequestException(request.Inputs.Count == 0
                    ? $"The request has no inputs; model {target.ModelName} takes '{target.Signature.Input.Name}'."
                    : $"Model {target.ModelName} takes one input ('{target.Signature.Input.Name}'); the request has {request.Inputs.Count}.");
            }

            if (request.RawInputContents.Count > 1)
            {
                throw new InferRequestException($"raw_input_contents holds {request.RawInputContents.Count} entries; the request has one input.");
            }

            var input = request.Inputs[0];
            var items = InferInput.Check(input.Name, input.Datatype, input.Shape, target, maxBatch);
            var count = items * target.InputLength;
            var typed = input.Contents?.Fp32Contents;
            result.Items = items;
            result.Input = TensorPool.Shared.Rent(count);
            if (request.RawInputContents.Count == 1)
            {
                if (typed is { Count: > 0 })
                {
                    throw new InferRequestException($"Input '{input.Name}' has both raw_input_contents and contents; send one of them.");
                }

                var raw = request.RawInputContents[0];
                if (raw.Length != (long)count * sizeof(float))
                {
                    throw new InferRequestException(
                        $"Input '{input.Name}' [{items}, {target.Signature.Input.Samples}, {target.Signature.Input.Leads.Count}] FP32 is {count * sizeof(float)} bytes; raw_input_contents holds {raw.Length}.");
                }

                InferInput.CopyLittleEndian(raw.Span, result.Input.Span, input.Name);
            }
            else
            {
                if (typed is null || typed.Count != count)
                {
                    throw new InferRequestException(
                        $"Input '{input.Name}' with shape [{string.Join(", ", input.Shape)}] needs {count} values in contents.fp32_contents (or its bytes in raw_input_contents); it holds {typed?.Count ?? 0}.");
                }

                var span = result.Input.Span;
                for (var i = 0; i < count; i++)
                {
                    span[i] = typed[i];
                }

                InferInput.CheckFinite(span, input.Name);
            }

            if (request.Outputs.Count > 0)
            {
                result.Outputs = [.. request.Outputs.Select(o => new RequestedOutput(o.Name, true))];
                InferInput.CheckOutputs(result.Outputs, target);
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static void ReadParameters(ModelInferRequest request, InferRequestBody result)
    {
        if (request.Parameters.TryGetValue("priority", out var priority))
        {
            result.Priority = priority.ParameterChoiceCase switch
            {
                InferParameter.ParameterChoiceOneofCase.StringParam => priority.StringParam,
                InferParameter.ParameterChoiceOneofCase.Int64Param => priority.Int64Param.ToString(System.Globalization.CultureInfo.InvariantCulture),
                InferParameter.ParameterChoiceOneofCase.Uint64Param => priority.Uint64Param.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => throw new InferRequestException("Parameter 'priority' must be stat, routine, batch or a level 0-3 (string_param or int64_param)."),
            };
        }

        if (request.Parameters.TryGetValue("timeout", out var timeout))
        {
            long micros = timeout.ParameterChoiceCase switch
            {
                InferParameter.ParameterChoiceOneofCase.Int64Param => timeout.Int64Param,
                InferParameter.ParameterChoiceOneofCase.Uint64Param when timeout.Uint64Param <= long.MaxValue => (long)timeout.Uint64Param,
                _ => -1,
            };
            if (micros < 0)
            {
                throw new InferRequestException("Parameter 'timeout' must be a whole number of microseconds (int64_param; 0: no timeout of its own).");
            }

            result.Timeout = micros == 0 ? null : TimeSpan.FromMicroseconds(Math.Min(micros, (long)TimeSpan.FromDays(1).TotalMicroseconds));
        }
    }

    /// <summary>The floats as one <c>raw_output_contents</c> entry (little-endian).</summary>
    public static ByteString RawContents(float[] values) => UnsafeByteOperations.UnsafeWrap(InferResponseWriter.LittleEndian(values));
}
