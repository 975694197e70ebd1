namespace Ecg2Af.LoadTests.Load;

/// <summary>
/// The intended send times of an open phase, computed up front from the arrival rate alone (never from answers), so
/// that latency can be counted from each request's scheduled time and a slow server cannot slow the load down.
/// </summary>
public static class OpenSchedule
{
    /// <summary>
    /// Offsets from the phase start of every request the phase schedules, in order, at most
    /// <paramref name="maxRequests"/>. Constant rate: <c>i / rate</c>. Linear ramp from r0 to r1 over T: the time
    /// at which the expected count <c>r0·t + (r1 − r0)·t² / 2T</c> reaches i.
    /// </summary>
    public static IEnumerable<TimeSpan> Offsets(LoadPhase phase, long maxRequests = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(phase);
        var total = phase.During.TotalSeconds;
        switch (phase)
        {
            case InjectPhase inject:
                if (inject.Rate <= 0)
                {
                    yield break;
                }

                for (long i = 0; i < maxRequests; i++)
                {
                    var t = i / inject.Rate;
                    if (t >= total)
                    {
                        yield break;
                    }

                    yield return TimeSpan.FromSeconds(t);
                }

                break;

            case RampInjectPhase ramp:
                var r0 = ramp.FromRate;
                var a = (ramp.ToRate - ramp.FromRate) / (2 * total);
                for (long i = 0; i < maxRequests; i++)
                {
                    double t;
                    if (Math.Abs(a) < 1e-12)
                    {
                        if (r0 <= 0)
                        {
                            yield break;
                        }

                        t = i / r0;
                    }
                    else
                    {
                        var discriminant = (r0 * r0) + (4 * a * i);
                        if (discriminant < 0)
                        {
                            yield break;
                        }

                        t = (-r0 + Math.Sqrt(discriminant)) / (2 * a);
                    }

                    if (t >= total || double.IsNaN(t))
                    {
                        yield break;
                    }

                    yield return TimeSpan.FromSeconds(Math.Max(0, t));
                }

                break;

            default:
                throw new ArgumentException($"{phase.Describe()} is not an open phase.", nameof(phase));
        }
    }
}
