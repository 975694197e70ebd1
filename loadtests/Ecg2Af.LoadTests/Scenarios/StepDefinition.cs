namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>Which request is being built: its number in the run and the client (source address) sending it.</summary>
public readonly record struct RequestContext(long Index, int Client);

/// <summary>
/// One kind of request in a scenario, picked for each send with probability proportional to <see cref="Weight"/>.
/// <see cref="Build"/> makes a fresh request (a request message can be sent once); <see cref="IsOk"/> decides from
/// the status code whether it counts as ok (2xx unless said otherwise).
/// </summary>
public sealed record StepDefinition(string Name, double Weight, Func<RequestContext, HttpRequestMessage> Build)
{
    public Func<int, bool> IsOk { get; init; } = status => status is >= 200 and < 300;
}
