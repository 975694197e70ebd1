using System.Diagnostics;
using System.Text.RegularExpressions;
using Ecg2Af.Deploy.Tests.Support;

namespace Ecg2Af.Deploy.Tests;

/// <summary>
/// Issue #8 acceptance: Prometheus scrapes the real gateway and workers with the project's scrape config, and every
/// PromQL expression of the dashboards and rules parses and, where it describes traffic the cluster has seen, has data.
/// </summary>
[Collection(ObservedClusterCollection.Name)]
public sealed partial class PromQlTests(ObservedCluster cluster)
{
    /// <summary>
    /// Expressions that may legitimately be empty after the test's traffic, and why. Alert expressions are listed
    /// by kind below: a healthy cluster crosses no threshold, but the series each alert compares must have data.
    /// </summary>
    private static readonly Dictionary<string, string> MayBeEmpty = new(StringComparer.Ordinal)
    {
        ["ecg2af-inference panel 'Failed batches per second' A"] =
            "no ONNX Runtime run failed, and the counter's series appears with the first failure",
    };

    [Fact]
    public async Task DashboardsAndRules_EvaluatedOnLiveTraffic_EveryExpressionParsesAndTrafficExpressionsHaveData()
    {
        var expressions = Expressions.All();
        Assert.True(expressions.Count >= 50, $"only {expressions.Count} expressions found");
        Assert.All(MayBeEmpty.Keys, key => Assert.Contains(expressions, e => e.Source == key));

        // Rates need two scrapes after the traffic, and rules one evaluation: poll until every answer is in.
        var watch = Stopwatch.StartNew();
        List<string> problems;
        do
        {
            problems = [];
            foreach (var expression in expressions)
            {
                var (ok, error, result) = await cluster.Prometheus.QueryAsync(expression.Query);
                if (!ok)
                {
                    problems.Add($"does not evaluate: {expression} -> {error}");
                    continue;
                }

                if (expression.Kind == ExpressionKind.Alert)
                {
                    var series = Expressions.AlertSeries(expression.Query);
                    if (series is null)
                    {
                        problems.Add($"not of the form 'series comparison threshold': {expression}");
                    }
                    else if ((await cluster.Prometheus.QueryAsync(series)).Result.GetArrayLength() == 0)
                    {
                        problems.Add($"the series this alert compares has no data: {expression.Source}: {series}");
                    }
                }
                else if (result.GetArrayLength() == 0 && !MayBeEmpty.ContainsKey(expression.Source))
                {
                    problems.Add($"no data: {expression}");
                }
            }

            if (problems.Count == 0 || problems.Any(p => p.StartsWith("does not", StringComparison.Ordinal)))
            {
                break;
            }

            await Task.Delay(1000);
        }
        while (watch.Elapsed < TimeSpan.FromSeconds(60));

        Assert.True(problems.Count == 0,
            string.Join('\n', problems) + "\n\nTraffic:\n" + string.Join('\n', cluster.Traffic));
    }

    [Fact]
    public async Task Rules_LoadedByPrometheus_AllEvaluateWithoutError()
    {
        var expected = Expressions.FromRules().Count();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var rules = (await cluster.Prometheus.GetAsync("api/v1/rules")).GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
            var unhealthy = rules.Where(r => r.GetProperty("health").GetString() != "ok").ToList();
            if ((rules.Count == expected && unhealthy.Count == 0) || watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.Equal(expected, rules.Count);
                Assert.True(unhealthy.Count == 0, string.Join('\n', unhealthy.Select(r => r.ToString())));
                return;
            }

            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Metrics_AfterTraffic_NoClientAddressOrPersonalDataAndDurationBucketsFrom1msTo10s()
    {
        using var http = new HttpClient();
        var services = new[] { cluster.Cluster.GatewayUrl }.Concat(cluster.Cluster.WorkerUrls);
        foreach (var service in services)
        {
            var text = await http.GetStringAsync(new Uri(service, "/metrics"));

            // The test's clients came from 127.0.1.x; no label carries a client address or what a client sent.
            Assert.DoesNotMatch(ClientAddress(), text);
            Assert.DoesNotContain(ObservedCluster.Token, text, StringComparison.OrdinalIgnoreCase);

            // One exporter: each family is declared once, and nothing from OpenTelemetry's Prometheus exporter.
            var families = TypeLine().Matches(text).Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(families.Count, families.Distinct(StringComparer.Ordinal).Count());
            Assert.DoesNotContain("otel_scope_name", text, StringComparison.Ordinal);

            // HTTP durations by route and status, bucketed from 1 ms to 10 s; process and runtime metrics.
            Assert.Matches(@"http_request_duration_seconds_bucket\{code=""\d{3}"",method=""\w+"",endpoint=""[^""]+"",le=""0.001""\}", text);
            Assert.Contains("le=\"10\"}", text, StringComparison.Ordinal);
            Assert.Contains("process_cpu_seconds_total", text, StringComparison.Ordinal);
            Assert.Contains("system_runtime_dotnet_thread_pool_queue_length", text, StringComparison.Ordinal);
            Assert.DoesNotContain("private_internaldiagnostics", text, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"127\.0\.1\.\d+")]
    private static partial Regex ClientAddress();

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
