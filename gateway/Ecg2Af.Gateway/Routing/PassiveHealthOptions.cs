using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// The <c>FailureRate</c> passive health policy. Section <c>Gateway:PassiveHealth</c>. A destination is taken out of
/// rotation when, within the last <see cref="DetectionWindow"/>, at least <see cref="MinimalTotalCount"/> attempts
/// went to it and at least <see cref="FailureRateLimit"/> of them failed (connection refused or reset, timeout, or a
/// 5xx answer). It comes back after the cluster's <c>HealthCheck:Passive:ReactivationPeriod</c>.
/// </summary>
public sealed class PassiveHealthOptions
{
    public const string Section = "Gateway:PassiveHealth";

    /// <summary>Sliding window. 100 ms to 1 h, default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan DetectionWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts in the window before the rate is judged. Default 5.</summary>
    [Range(1, 100_000)]
    public int MinimalTotalCount { get; set; } = 5;

    /// <summary>Failure share that marks the destination unhealthy. Above 0, at most 1; default 0.5.</summary>
    [Range(0.001, 1.0)]
    public double FailureRateLimit { get; set; } = 0.5;
}
