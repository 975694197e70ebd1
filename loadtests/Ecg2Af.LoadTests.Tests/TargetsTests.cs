using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Ecg2Af.LoadTests.Commands;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Targets;

namespace Ecg2Af.LoadTests.Tests;

public class TargetsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://127.0.3.9:1234/")]
    [InlineData("http://localhost:8080")]
    [InlineData("http://[::1]:8080")]
    public void Parse_Loopback_Accepted(string url) => Assert.NotNull(LoopbackTarget.Parse(url));

    [Theory]
    [InlineData("http://192.0.2.10:8080")]
    [InlineData("http://10.0.0.1")]
    [InlineData("ftp://127.0.0.1")]
    [InlineData("127.0.0.1:8080")]
    public void Parse_NotLoopback_Refused(string url) => Assert.Throws<ArgumentException>(() => LoopbackTarget.Parse(url));

    [Fact]
    public void Parse_PrometheusPage_SumsCodesPerDestination()
    {
        const string page = """
            # HELP ecg2af_gateway_upstream_requests_total Attempts forwarded to a worker.
            # TYPE ecg2af_gateway_upstream_requests_total counter
            ecg2af_gateway_upstream_requests_total{destination="worker-0",code="200"} 12
            ecg2af_gateway_upstream_requests_total{destination="worker-0",code="503"} 3
            ecg2af_gateway_upstream_requests_total{code="200",destination="worker-1"} 7
            ecg2af_gateway_upstream_request_duration_seconds_count{destination="worker-1"} 99
            http_requests_received_total{code="200"} 100
            """;

        var sums = GatewayMetrics.Parse(page)!;

        Assert.Equal(new Dictionary<string, double> { ["worker-0"] = 15, ["worker-1"] = 7 }, sums);
        Assert.Null(GatewayMetrics.Parse("http_requests_received_total 5\n"));
        Assert.Equal(new Dictionary<string, double> { ["rate_limited"] = 2 },
            GatewayMetrics.Parse("ecg2af_gateway_rejected_requests_total{reason=\"rate_limited\"} 2\n", GatewayMetrics.Rejected, "reason"));
    }

    [Fact]
    public void Difference_BeforeAndAfter_AttemptsInBetween()
    {
        var diff = GatewayMetrics.Difference(
            (new Dictionary<string, double> { ["worker-0"] = 10, ["worker-1"] = 4 }, null),
            (new Dictionary<string, double> { ["worker-0"] = 25, ["worker-1"] = 4, ["worker-2"] = 6 }, new Dictionary<string, double> { ["rate_limited"] = 3 }));

        Assert.Equal(new Dictionary<string, double> { ["worker-0"] = 15, ["worker-2"] = 6 }, diff.Attempts);
        Assert.Equal(new Dictionary<string, double> { ["rate_limited"] = 3 }, diff.Rejected);
        Assert.Null(diff.Note);
        Assert.Contains("not available", GatewayMetrics.Difference((null, null), (null, null)).Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_Overrides_ReplaceOrStretchTheLoad()
    {
        IReadOnlyList<LoadPhase> defaults = [new RampInjectPhase(1, 4, TimeSpan.FromSeconds(30)), new InjectPhase(4, TimeSpan.FromSeconds(30))];

        Assert.Same(defaults, new LoadOverrides().Apply(defaults));
        Assert.Equal([new KeepConstantPhase(8, TimeSpan.FromSeconds(60))], new LoadOverrides { Users = 8 }.Apply(defaults));
        Assert.Equal([new InjectPhase(3, TimeSpan.FromSeconds(10))], new LoadOverrides { Rate = 3, Duration = TimeSpan.FromSeconds(10) }.Apply(defaults));
        Assert.Equal([new RampInjectPhase(1, 3, TimeSpan.FromSeconds(60))], new LoadOverrides { Rate = 3, RampFrom = 1 }.Apply(defaults));
        Assert.Equal(
            [new RampInjectPhase(1, 4, TimeSpan.FromSeconds(5)), new InjectPhase(4, TimeSpan.FromSeconds(5))],
            new LoadOverrides { Duration = TimeSpan.FromSeconds(10) }.Apply(defaults));
    }

    [Fact]
    public void Validate_ContradictoryOrUnboundedOptions_Refused()
    {
        Assert.Throws<ArgumentException>(() => RunCommand.Validate(new LoadRunOptions { Overrides = new LoadOverrides { Rate = 2, Users = 3 } }));
        Assert.Throws<ArgumentException>(() => RunCommand.Validate(new LoadRunOptions { Overrides = new LoadOverrides { RampFrom = 1 } }));
        Assert.Throws<ArgumentException>(() => RunCommand.Validate(new LoadRunOptions { Bounds = new RunBounds { MaxRequests = 0 } }));
        Assert.Throws<ArgumentException>(() => RunCommand.Validate(new LoadRunOptions { Bounds = new RunBounds { MaxDuration = TimeSpan.Zero } }));
        RunCommand.Validate(new LoadRunOptions());
    }

    [Fact]
    public void SetTensor_BinaryBody_HeaderLengthThenLittleEndianFloats()
    {
        var payloads = Payloads.Load(Path.Combine(Ecg2Af.LocalCluster.RepositoryLayout.Shared, "ecg-samples"));
        var data = Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray();

        payloads.SetTensor("ecg2af", "input_ecg", 2, 12, data);

        var header = JsonDocument.Parse(Encoding.UTF8.GetString(payloads.OipBinary, 0, payloads.OipBinaryHeaderLength)).RootElement;
        var input = header.GetProperty("inputs")[0];
        Assert.Equal(96, input.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal([1, 2, 12], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(payloads.OipBinaryHeaderLength + 96, payloads.OipBinary.Length);
        Assert.Equal(11.5f, BinaryPrimitives.ReadSingleLittleEndian(payloads.OipBinary.AsSpan(payloads.OipBinaryHeaderLength + (23 * 4))));
        var json = JsonDocument.Parse(payloads.OipJson).RootElement.GetProperty("inputs")[0];
        Assert.Equal(data, json.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal("FP32", json.GetProperty("datatype").GetString());
        Assert.Equal(8, payloads.Records.Count);
    }

    [Fact]
    public void Parse_WrkSummaryLine_Read()
    {
        const string output = """
            Running 10s test @ http://127.0.0.1:8080/api/v1/predictions
              1 threads and 4 connections
            wrk-json: {"requests":120,"duration_us":10000000,"bytes":5000,"connect_errors":0,"read_errors":1,"write_errors":0,"status_errors":2,"timeouts":0,"p50_us":30000,"p99_us":90000,"max_us":95000}
            """;

        var result = WrkResult.Parse(output)!;

        Assert.Equal(12, result.RequestsPerSecond, 9);
        Assert.Equal(2, result.StatusErrors);
        Assert.Equal(1, result.SocketErrors);
        Assert.Equal(90, result.P99Ms, 9);
        Assert.Null(WrkResult.Parse("Running 10s test\n"));
    }
}
