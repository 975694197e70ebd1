using Ecg2Af.LoadTests.Measurement;

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

    /// <summary>
    /// A step that is not one HTTP request message (a gRPC call): sends it for the context, given the scheduled
    /// timestamp, and says what happened. <see cref="Build"/> is not used then.
    /// </summary>
    public Func<RequestContext, long, CancellationToken, Task<Outcome>>? Send { get; init; }

    /// <summary>A step sent by <paramref name="send"/> rather than as an HTTP request message (see <see cref="Send"/>).</summary>
    public static StepDefinition Custom(string name, double weight, Func<RequestContext, long, CancellationToken, Task<Outcome>> send) =>
        new(name, weight, _ => throw new InvalidOperationException($"Step '{name}' is sent by its own sender, not as an HTTP request message.")) { Send = send };
}
