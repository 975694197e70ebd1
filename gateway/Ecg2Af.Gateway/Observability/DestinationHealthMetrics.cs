using Prometheus;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Ecg2Af.Gateway.Observability;

/// <summary>
/// Destination health as Prometheus state sets, read from YARP's live state at every scrape: a destination that
/// DNS stops returning disappears from the series instead of lingering with a stale value.
/// </summary>
internal sealed class DestinationHealthMetrics
{
    private static readonly string[] Checks = ["active", "passive"];
    private static readonly (DestinationHealth Health, string Label)[] States =
        [(DestinationHealth.Healthy, "healthy"), (DestinationHealth.Unhealthy, "unhealthy"), (DestinationHealth.Unknown, "unknown")];

    private readonly IProxyStateLookup _proxy;
    private readonly Lock _gate = new();

    private readonly Gauge _health = Metrics.CreateGauge(
        "ecg2af_gateway_destination_health",
        "1 for the current state (healthy, unhealthy, unknown) of each destination's active and passive health check.",
        "cluster", "destination", "check", "state");

    private readonly Gauge _available = Metrics.CreateGauge(
        "ecg2af_gateway_destination_available",
        "1 when the destination receives traffic (no check says unhealthy), else 0.",
        "cluster", "destination");

    public DestinationHealthMetrics(IProxyStateLookup proxy)
    {
        _proxy = proxy;
        Metrics.DefaultRegistry.AddBeforeCollectCallback(Update);
    }

    public void Update()
    {
        lock (_gate)
        {
            var seen = new HashSet<(string Cluster, string Destination)>();
            foreach (var cluster in _proxy.GetClusters())
            {
                var available = cluster.DestinationsState.AvailableDestinations;
                foreach (var destination in cluster.Destinations.Values)
                {
                    seen.Add((cluster.ClusterId, destination.DestinationId));
                    _available.WithLabels(cluster.ClusterId, destination.DestinationId).Set(available.Contains(destination) ? 1 : 0);
                    foreach (var check in Checks)
                    {
                        var health = check == "active" ? destination.Health.Active : destination.Health.Passive;
                        foreach (var (state, label) in States)
                        {
                            _health.WithLabels(cluster.ClusterId, destination.DestinationId, check, label).Set(health == state ? 1 : 0);
                        }
                    }
                }
            }

            foreach (var labels in _available.GetAllLabelValues().ToList())
            {
                if (!seen.Contains((labels[0], labels[1])))
                {
                    _available.RemoveLabelled(labels);
                }
            }

            foreach (var labels in _health.GetAllLabelValues().ToList())
            {
                if (!seen.Contains((labels[0], labels[1])))
                {
                    _health.RemoveLabelled(labels);
                }
            }
        }
    }
}
