using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.WarmUp;

/// <summary>
/// The gateway's warm-up before it reports ready (section <c>Gateway:WarmUp</c>): rounds of Open Inference Protocol
/// requests (raw binary inference with one synthetic ECG-shaped input each, and model metadata) sent to itself and
/// forwarded to the workers like a client's, until the JIT has settled, so the key check, rate limiter, body
/// streaming and forwarder have run their optimized code before the first client's request does.
/// </summary>
public sealed class WarmUpOptions
{
    public const string Section = "Gateway:WarmUp";

    /// <summary>False: report ready cold. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The longest the rounds may take once a worker answered; they usually end sooner, when the JIT has settled.
    /// 1 s to 5 min, default 20 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Inference requests per round (with four times as many metadata requests). 1 to 64, default 4.</summary>
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
