using System.Text.RegularExpressions;
using Ecg2Af.LoadTests.Commands;
using Ecg2Af.LoadTests.Scenarios;

namespace Ecg2Af.LoadTests.Tests.EndToEnd;

/// <summary>
/// The gRPC side of the load tool against the real gateway and workers: the oip-grpc scenario (ModelInfer through
/// the gateway's gRPC listener, one channel per client address), and bench-protocols with tiny settings.
/// </summary>
[Collection(EndToEndCollection.Name)]
public partial class GrpcLoadTests(SharedModelRepository shared)
{
    [Fact]
    public async Task OipGrpcScenario_ThroughTheGatewaysGrpcListener_AllOk_SpreadOverWorkers()
    {
        var cluster = await shared.ThreeWorkersAsync();
        var output = Directory.CreateTempSubdirectory("ecg2af-load-grpc-").FullName;
        try
        {
            var options = new LoadRunOptions
            {
                Scenarios = ["oip-grpc"],
                Target = cluster.GatewayUrl.ToString(),
                GrpcTarget = cluster.GatewayGrpcUrl.ToString(),
                ApiKey = SelfHost.Key.Key,
                Clients = 30,
                Overrides = new LoadOverrides { Users = 4, Duration = TimeSpan.FromSeconds(4) },
                Output = output,
            };

            var (exitCode, report, _) = await LoadRun.ExecuteAsync(options, TextWriter.Null, CancellationToken.None);

            var grpc = report.Scenarios.Single();
            Assert.True(exitCode == 0, Reporting.ConsoleReport.Render(report));
            Assert.Equal(0, grpc.Total.Failed);
            Assert.True(grpc.Total.Ok >= 4, $"{grpc.Total.Ok} ok");
            Assert.Equal(grpc.Total.Ok, grpc.Total.StatusCodes["200"]);
            Assert.Equal(grpc.Total.Ok * 5000 * 12 * sizeof(float), grpc.Total.BytesSent);
            // The gateway forwarded the calls, and the clients' 30 source addresses put them on more than one worker.
            Assert.NotNull(grpc.Gateway);
            Assert.True(grpc.Gateway.Attempts.Count >= 2, string.Join(", ", grpc.Gateway.Attempts.Select(p => $"{p.Key}={p.Value}")));
            Assert.True(grpc.Gateway.Attempts.Values.Sum() >= grpc.Total.Ok, string.Join(", ", grpc.Gateway.Attempts.Select(p => $"{p.Key}={p.Value}")));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task OipGrpcStep_WithoutKey_RecordsTheUnauthenticatedRefusal()
    {
        var cluster = await shared.ThreeWorkersAsync();
        var payloads = Payloads.Load(Path.Combine(LocalCluster.RepositoryLayout.Shared, "ecg-samples"), [[Payloads.TensorSource]]);
        using (var control = Load.ClientPool.Authorize(new HttpClient(), SelfHost.Key.Key))
        {
            await payloads.LoadTensorAsync(control, cluster.GatewayUrl, CancellationToken.None);
        }

        using var anonymous = new Load.GrpcClientPool(cluster.GatewayGrpcUrl, 1, TimeSpan.FromSeconds(30), apiKey: null);
        using var unused = new HttpClient();
        var step = GrpcRequests.ModelInfer("oip-grpc", anonymous, payloads);

        var outcome = await Load.RequestExecutor.SendAsync(unused, step, new RequestContext(0, 0), System.Diagnostics.Stopwatch.GetTimestamp(), CancellationToken.None);

        Assert.False(outcome.Ok);
        Assert.Equal("grpc_unauthenticated", outcome.StatusKey);
    }

    [Fact]
    public async Task BenchProtocols_TinySettings_ComparesTheThreeFormsInOneRun()
    {
        var output = Directory.CreateTempSubdirectory("ecg2af-bench-protocols-").FullName;
        try
        {
            var (exitCode, text) = await ToolProcess.RunAsync(TimeSpan.FromMinutes(4), "bench-protocols", "--seconds", "1.5", "--warmup", "0.5", "--rounds", "2",
                "--users", "4", "--clients", "4", "--workers", "1", "--model-repo", shared.Path, "--out", output);

            Assert.True(exitCode == 0, text);
            var markdown = await File.ReadAllTextAsync(Path.Combine(output, "bench-protocols.md"));
            foreach (var arm in new[] { "oip-grpc", "oip-binary", "web-form" })
            {
                // Every arm answered in every round without failures, and its CPU per ECG was measured.
                var rows = RoundRow().Matches(markdown).Where(m => m.Groups["arm"].Value == arm).ToList();
                Assert.True(rows.Count == 2, markdown);
                Assert.All(rows, r => Assert.True(long.Parse(r.Groups["ok"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, markdown));
                Assert.All(rows, r => Assert.Equal("0", r.Groups["failed"].Value));
                Assert.All(rows, r => Assert.True(double.Parse(r.Groups["gateway"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, markdown));
            }

            Assert.Contains("| oip-binary |", markdown, StringComparison.Ordinal);
            Assert.Matches(@"\| oip-binary \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| 1\.00 \| 1\.00 \| 1\.00 \|", markdown);
            Assert.Contains("cores", markdown, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [GeneratedRegex(@"^\| (?<round>\d+) \| (?<arm>[a-z-]+) \| (?<ok>\d+) \| (?<failed>\d+) \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| (?<gateway>[0-9.]+) \|", RegexOptions.Multiline)]
    private static partial Regex RoundRow();
}
