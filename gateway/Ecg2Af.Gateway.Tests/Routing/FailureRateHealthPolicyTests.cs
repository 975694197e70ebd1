using Ecg2Af.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Ecg2Af.Gateway.Tests.Routing;

public class FailureRateHealthPolicyTests
{
    private static readonly TimeSpan Reactivation = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingHealthUpdater _updater = new();
    private readonly ClusterState _cluster = new("workers", new ClusterModel(
        new ClusterConfig { ClusterId = "workers", HealthCheck = new HealthCheckConfig { Passive = new PassiveHealthCheckConfig { ReactivationPeriod = Reactivation } } },
        new HttpMessageInvoker(new SocketsHttpHandler())));
    private readonly DestinationState _destination = new("worker-0");

    private FailureRateHealthPolicy Policy(int minimalCount = 4, double limit = 0.5, int windowSeconds = 10) => new(
        Options.Create(new PassiveHealthOptions { DetectionWindow = TimeSpan.FromSeconds(windowSeconds), MinimalTotalCount = minimalCount, FailureRateLimit = limit }),
        _updater, _time, NullLogger<FailureRateHealthPolicy>.Instance);

    private static DefaultHttpContext Answered(int status) => new() { Response = { StatusCode = status } };

    private static DefaultHttpContext Failed(ForwarderError error)
    {
        var context = new DefaultHttpContext { Response = { StatusCode = 502 } };
        context.Features.Set<IForwarderErrorFeature>(new ErrorFeature(error));
        return context;
    }

    [Fact]
    public void RequestProxied_503Answers_Unhealthy()
    {
        var policy = Policy();
        for (var i = 0; i < 4; i++)
        {
            policy.RequestProxied(Answered(503), _cluster, _destination);
        }

        Assert.Equal(DestinationHealth.Unhealthy, _destination.Health.Passive);
        Assert.Equal(Reactivation, _updater.LastReactivation);
    }

    [Fact]
    public void RequestProxied_RefusedConnections_Unhealthy()
    {
        var policy = Policy();
        for (var i = 0; i < 4; i++)
        {
            policy.RequestProxied(Failed(ForwarderError.Request), _cluster, _destination);
        }

        Assert.Equal(DestinationHealth.Unhealthy, _destination.Health.Passive);
    }

    [Fact]
    public void RequestProxied_FewerThanMinimalCount_NoVerdict()
    {
        var policy = Policy(minimalCount: 5);
        for (var i = 0; i < 4; i++)
        {
            policy.RequestProxied(Answered(503), _cluster, _destination);
        }

        Assert.Equal(DestinationHealth.Unknown, _destination.Health.Passive);
    }

    [Fact]
    public void RequestProxied_4xxAndClientAborts_NotCountedAgainstTheWorker()
    {
        var policy = Policy();
        var aborted = Failed(ForwarderError.RequestCanceled);
        for (var i = 0; i < 6; i++)
        {
            policy.RequestProxied(Answered(422), _cluster, _destination);
            policy.RequestProxied(aborted, _cluster, _destination);
        }

        Assert.Equal(DestinationHealth.Healthy, _destination.Health.Passive);
    }

    [Fact]
    public void RequestProxied_FailuresOlderThanTheWindow_Forgotten()
    {
        var policy = Policy(minimalCount: 4, limit: 0.5, windowSeconds: 10);
        for (var i = 0; i < 3; i++)
        {
            policy.RequestProxied(Answered(503), _cluster, _destination);
        }

        _time.Advance(TimeSpan.FromSeconds(11));
        policy.RequestProxied(Answered(503), _cluster, _destination); // only one failure left in the window
        for (var i = 0; i < 3; i++)
        {
            policy.RequestProxied(Answered(200), _cluster, _destination);
        }

        Assert.Equal(DestinationHealth.Healthy, _destination.Health.Passive);
    }

    [Fact]
    public void RequestProxied_WhileUnhealthy_LateSuccessesDoNotBringItBack()
    {
        var policy = Policy();
        for (var i = 0; i < 4; i++)
        {
            policy.RequestProxied(Answered(503), _cluster, _destination);
        }

        for (var i = 0; i < 10; i++)
        {
            policy.RequestProxied(Answered(200), _cluster, _destination);
        }

        Assert.Equal(DestinationHealth.Unhealthy, _destination.Health.Passive);
        Assert.Equal(1, _updater.UnhealthyCalls);
    }

    private sealed class ErrorFeature(ForwarderError error) : IForwarderErrorFeature
    {
        public ForwarderError Error => error;

        public Exception? Exception => null;
    }

    /// <summary>Stands in for YARP's updater (which would schedule the reactivation) and records what it was told.</summary>
    private sealed class RecordingHealthUpdater : IDestinationHealthUpdater
    {
        public TimeSpan? LastReactivation { get; private set; }

        public int UnhealthyCalls { get; private set; }

        public void SetActive(ClusterState cluster, IEnumerable<NewActiveDestinationHealth> newHealthStates) => throw new NotSupportedException();

        public void SetPassive(ClusterState cluster, DestinationState destination, DestinationHealth newHealth, TimeSpan reactivationPeriod)
        {
            destination.Health.Passive = newHealth;
            LastReactivation = reactivationPeriod;
            UnhealthyCalls += newHealth == DestinationHealth.Unhealthy ? 1 : 0;
        }
    }
}
