using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Ecg2Af.Inference.Repository;

namespace Ecg2Af.Worker.InferenceProtocol;

/// <summary>
/// The checks and decoding every OIP transport shares (REST JSON, REST binary, gRPC): the one input's name, datatype and
/// shape against the model, the requested outputs, and little-endian FP32 bytes into floats with the finite check.
/// Each failure is an <see cref="InferRequestException"/> whose message says what is wrong.
/// </summary>
internal static class InferInput
{
    public const string Fp32 = "FP32";

    /// <summary>Checks the input's name, datatype and shape [N, samples, leads]; returns N (the request's items).</summary>
    public static int Check(string? name, string? datatype, IReadOnlyList<long>? shape, ServedVersion target, int maxBatch)
    {
        var spec = target.Signature.Input;
        if (name != spec.Name)
        {
            throw new InferRequestException($"Model {target.ModelName} takes input '{spec.Name}', not '{(string.IsNullOrEmpty(name) ? "(no name)" : name)}'.");
        }

        if (datatype != Fp32)
        {
            throw new InferRequestException($"Input '{spec.Name}' is FP32, not '{(string.IsNullOrEmpty(datatype) ? "(no datatype)" : datatype)}'.");
        }

        if (shape is not { Count: 3 } || shape[1] != spec.Samples || shape[2] != spec.Leads.Count || shape[0] < 1)
        {
            throw new InferRequestException(
                $"Input '{spec.Name}' has shape [N, {spec.Samples}, {spec.Leads.Count}] with N ≥ 1; the request says [{string.Join(", ", shape ?? [])}].");
        }

        if (shape[0] > maxBatch)
        {
            throw new InferRequestException($"The request holds a batch of {shape[0]}; this worker takes at most {maxBatch} per request.");
        }

        return (int)shape[0];
    }

    /// <summary>Checks that every requested output exists.</summary>
    public static void CheckOutputs(IEnumerable<RequestedOutput>? outputs, ServedVersion target)
    {
        foreach (var output in outputs ?? [])
        {
            if (!target.Signature.Outputs.Any(o => o.Name == output.Name))
            {
                throw new InferRequestException(
                    $"Model {target.ModelName} has no output '{output.Name}' (it has {string.Join(", ", target.Signature.Outputs.Select(o => o.Name))}).");
            }
        }
    }

    /// <summary>Copies little-endian FP32 bytes into floats (byte-swapping only on a big-endian host), then checks they are finite.</summary>
    public static void CopyLittleEndian(ReadOnlySpan<byte> bytes, Span<float> values, string input)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
            }
        }

        CheckFinite(values, input);
    }

    /// <summary>NaN and ±infinity are not ECG values; the model would answer NaN.</summary>
    public static void CheckFinite(ReadOnlySpan<float> values, string input)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InferRequestException($"Input '{input}' holds a non-finite value (NaN or infinity) at flat index {i}.");
            }
        }
    }
}
