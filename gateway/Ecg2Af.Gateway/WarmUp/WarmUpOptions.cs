using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.WarmUp;

/// <summary>
/// The gateway's warm-up before it reports ready (section <c>Gateway:WarmUp</c>): <see cref="Requests"/> Open
/// Inference Protocol requests (raw binary, one synthetic ECG-shaped input each) sent to itself and forwarded to the
/// workers like a client's, so the key check, rate limiter, body streaming and forwarder have run their code (JIT
/// tiering) before the first client's request does.
/// </summary>
public sealed class WarmUpOptions
{
    public const string Section = "Gateway:WarmUp";

    /// <summary>Inference requests to send; 0 turns the warm-up off. 0 to 10,000, default 160.</summary>
    [Range(0, 10_000)]
    public int Requests { get; set; } = 160;

    /// <summary>How many are in flight at once. 1 to 64, default 4.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>The model whose metadata gives the input shape and whose infer route is used. Default <c>ecg2af</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,128}$")]
    public string Model { get; set; } = "ecg2af";

    /// <summary>
    /// How long to wait for a worker to answer the model's metadata before reporting ready cold (a gateway is never
    /// kept out of rotation because its workers are late). 0 to 10 min, default 15 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan WorkerWait { get; set; } = TimeSpan.FromSeconds(15);
}
