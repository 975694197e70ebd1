using System.Globalization;

namespace Ecg2Af.LoadTests.Load;

/// <summary>
/// One phase of a load simulation, in NBomber's vocabulary: open phases inject requests at an arrival rate whatever
/// the answers do; closed phases keep a number of users each sending its next request when the last one finished.
/// </summary>
public abstract record LoadPhase(TimeSpan During)
{
    /// <summary>True for arrival-rate (open) phases.</summary>
    public abstract bool IsOpen { get; }

    /// <summary>Requests this phase would schedule (open) or null (closed: depends on the answers).</summary>
    public abstract long? PlannedRequests { get; }

    public abstract string Describe();

    protected static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    protected static string PerSecond(double r) => r.ToString("0.###", CultureInfo.InvariantCulture) + "/s";
}

/// <summary>Open: a constant arrival rate (requests per second) for <see cref="LoadPhase.During"/>.</summary>
public sealed record InjectPhase(double Rate, TimeSpan During) : LoadPhase(During)
{
    public override bool IsOpen => true;

    public override long? PlannedRequests => (long)Math.Ceiling(Rate * During.TotalSeconds - 1e-9);

    public override string Describe() => $"inject {PerSecond(Rate)} for {Seconds(During)}";
}

/// <summary>Open: the arrival rate moves linearly from <see cref="FromRate"/> to <see cref="ToRate"/>.</summary>
public sealed record RampInjectPhase(double FromRate, double ToRate, TimeSpan During) : LoadPhase(During)
{
    public override bool IsOpen => true;

    public override long? PlannedRequests => (long)Math.Ceiling(((FromRate + ToRate) / 2 * During.TotalSeconds) - 1e-9);

    public override string Describe() => $"ramp {PerSecond(FromRate)} → {PerSecond(ToRate)} over {Seconds(During)}";
}

/// <summary>Closed: <see cref="Users"/> users, each sending its next request as soon as its last one finished.</summary>
public sealed record KeepConstantPhase(int Users, TimeSpan During) : LoadPhase(During)
{
    public override bool IsOpen => false;

    public override long? PlannedRequests => null;

    public override string Describe() => $"{Users} concurrent users for {Seconds(During)}";
}
