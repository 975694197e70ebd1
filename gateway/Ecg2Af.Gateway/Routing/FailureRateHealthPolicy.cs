using System.Runtime.CompilerServices;
using Ecg2Af.Gateway.Observability;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Ecg2Af.Gateway.Routing;

/// <summary>
/// Passive health that, unlike YARP's <c>TransportFailureRate</c>, also counts 5xx answers (an overloaded or
/// unready worker answers 503) besides refused or reset connections and timeouts. Client aborts count neither way.
/// It runs once per forwarding attempt, so an attempt that failover retried elsewhere still counts against the
/// destination that failed it.
/// </summary>
internal sealed class FailureRateHealthPolicy(
    IOptions<PassiveHealthOptions> options,
    IDestinationHealthUpdater healthUpdater,
    TimeProvider time,
    ILogger<FailureRateHealthPolicy> logger) : IPassiveHealthCheckPolicy
{
    /// <summary>YARP's default when the cluster sets no <c>ReactivationPeriod</c>.</summary>
    private static readonly TimeSpan DefaultReactivation = TimeSpan.FromSeconds(60);

    private readonly PassiveHealthOptions _options = options.Value;
    private readonly ConditionalWeakTable<DestinationState, SlidingCounts> _windows = [];

    public string Name => GatewayPolicies.FailureRate;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var outcome = Judge(context);
        if (outcome == AttemptOutcome.Ignored || destination.Health.Passive == DestinationHealth.Unhealthy)
        {
            // While out of rotation the reactivation timer decides; late answers from before do not flip it back.
            return;
        }

        var window = _windows.GetValue(destination, _ => new SlidingCounts(_options.DetectionWindow));
        var (total, failed) = window.Add(time.GetTimestamp(), time.TimestampFrequency, outcome == AttemptOutcome.Failed);
        if (total < _options.MinimalTotalCount)
        {
            return;
        }

        var rate = (double)failed / total;
        var reactivation = cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? DefaultReactivation;
        if (rate >= _options.FailureRateLimit)
        {
            window.Clear();
            logger.DestinationFailing(destination.DestinationId, failed, total, reactivation);
            healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, reactivation);
        }
        else if (destination.Health.Passive != DestinationHealth.Healthy)
        {
            healthUpdater.SetPassive(cluster, destination, DestinationHealth.Healthy, reactivation);
        }
    }

    internal enum AttemptOutcome
    {
        Succeeded,
        Failed,
        Ignored,
    }

    /// <summary>What one attempt says about the destination.</summary>
    internal static AttemptOutcome Judge(HttpContext context)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return AttemptOutcome.Ignored; // the client left (or the deadline passed): not the worker's fault
        }

        return context.Features.Get<IForwarderErrorFeature>()?.Error switch
        {
            null or ForwarderError.None => context.Response.StatusCode >= 500 || GrpcProtocol.IsUnavailable(context)
                ? AttemptOutcome.Failed
                : AttemptOutcome.Succeeded,
            ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination
                or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination
                or ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination
                or ForwarderError.UpgradeActivityTimeout => AttemptOutcome.Failed,
            _ => AttemptOutcome.Ignored,
        };
    }

    /// <summary>Attempt and failure counts over a sliding window, kept in ten buckets.</summary>
    internal sealed class SlidingCounts(TimeSpan window)
    {
        private const int Buckets = 10;
        private readonly long[] _bucketStart = new long[Buckets];
        private readonly int[] _total = new int[Buckets];
        private readonly int[] _failed = new int[Buckets];
        private readonly Lock _gate = new();

        public (int Total, int Failed) Add(long timestamp, long frequency, bool failed)
        {
            var bucketTicks = Math.Max(1, (long)(window.TotalSeconds * frequency / Buckets));
            var bucket = timestamp / bucketTicks;
            var slot = (int)(bucket % Buckets);
            lock (_gate)
            {
                if (_bucketStart[slot] != bucket)
                {
                    _bucketStart[slot] = bucket;
                    _total[slot] = 0;
                    _failed[slot] = 0;
                }

                _total[slot]++;
                if (failed)
                {
                    _failed[slot]++;
                }

                int total = 0, failures = 0;
                for (var i = 0; i < Buckets; i++)
                {
                    if (bucket - _bucketStart[i] < Buckets)
                    {
                        total += _total[i];
                        failures += _failed[i];
                    }
                }

                return (total, failures);
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                Array.Clear(_total);
                Array.Clear(_failed);
            }
        }
    }
}
