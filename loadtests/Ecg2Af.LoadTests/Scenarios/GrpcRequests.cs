using System.Diagnostics;
using System.Text;
using Ecg2Af.Client;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Measurement;
using Grpc.Core;

namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>
/// The gRPC request kinds of the scenarios: Open Inference Protocol v2 <c>ModelInfer</c> through the gateway's gRPC
/// listener, sent by the client library (<see cref="Ecg2AfGrpcClient"/>), so the tool times what its users send.
/// </summary>
public static class GrpcRequests
{
    /// <summary>
    /// <c>ModelInfer</c> of one real ECG's model input (<see cref="Payloads.TensorData"/>) as raw little-endian FP32
    /// in <c>raw_input_contents</c>, all outputs back in <c>raw_output_contents</c>. An answer counts as status 200;
    /// a refusal as <c>grpc_&lt;status&gt;</c> (e.g. <c>grpc_unavailable</c>), a passed deadline as <c>timeout</c>.
    /// Bytes sent and received are the tensors' raw bytes.
    /// </summary>
    public static StepDefinition ModelInfer(string name, GrpcClientPool pool, Payloads payloads, string? priority = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(payloads);
        IReadOnlyDictionary<string, string>? parameters = priority is null ? null : new Dictionary<string, string> { ["priority"] = priority };
        return StepDefinition.Custom(name, 1, async (context, scheduled, cancellationToken) =>
        {
            var sent = payloads.TensorData.Length * (long)sizeof(float);
            var sentAt = Stopwatch.GetTimestamp();
            try
            {
                var result = await pool[context.Client].InferAsync(
                    payloads.Model, payloads.InputName, payloads.TensorShape, payloads.TensorData, parameters: parameters, cancellationToken: cancellationToken);
                var received = result.Outputs.Sum(o => o.Data.Length * (long)sizeof(float));
                return new Outcome(true, 200, null, scheduled, sentAt, Stopwatch.GetTimestamp(), sent, received, null);
            }
            catch (Ecg2AfGrpcException e)
            {
                var error = e.StatusCode == StatusCode.DeadlineExceeded ? "timeout" : StatusKey(e.StatusCode);
                return new Outcome(false, 0, error, scheduled, sentAt, Stopwatch.GetTimestamp(), sent, 0, null);
            }
            catch (OperationCanceledException)
            {
                return new Outcome(false, 0, "cancelled", scheduled, sentAt, Stopwatch.GetTimestamp(), sent, 0, null);
            }
        });
    }

    /// <summary>The status table's key of a gRPC status: <c>grpc_</c> and its name in snake case (<c>grpc_resource_exhausted</c>).</summary>
    public static string StatusKey(StatusCode code)
    {
        var name = code.ToString();
        var key = new StringBuilder("grpc_", name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                key.Append('_');
            }

            key.Append(char.ToLowerInvariant(name[i]));
        }

        return key.ToString();
    }
}
