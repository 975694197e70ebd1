using System.Diagnostics;
using Ecg2Af.LoadTests.Load;
using Ecg2Af.LoadTests.Reporting;
using Ecg2Af.LoadTests.Scenarios;
using Ecg2Af.LoadTests.Thresholds;

namespace Ecg2Af.LoadTests.Tests;

/// <summary>The runner against a real loopback server: the load models, bounds and what gets recorded.</summary>
public sealed class ScenarioRunnerTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private StepDefinition Get(string name, string path, double weight = 1) =>
        new(name, weight, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(_server.Url, path)));

    private static Scenario Scenario(LoadPhase phase, params StepDefinition[] steps) =>
        new() { Name = "test", Steps = steps, Load = [phase] };

    [Fact]
    public async Task RunAsync_OpenModelSlowServer_SendsOnScheduleNotAfterAnswers()
    {
        using var clients = new ClientPool(4, TimeSpan.FromSeconds(30), 64);
        var runner = new ScenarioRunner(clients, new RunBounds());

        // 20 requests scheduled over 1 s to a server that takes 1.5 s each: a closed loop of one user would need 30 s.
        var result = await runner.RunAsync(Scenario(new InjectPhase(20, TimeSpan.FromSeconds(1)), Get("slow", "/delay/1500")));
        var step = StepReport.From(result.Steps[0], result.Window);

        Assert.Equal(20, step.Ok);
        Assert.Equal(0, step.Dropped);
        var arrivals = _server.Arrivals.Order().ToList();
        Assert.True(Stopwatch.GetElapsedTime(arrivals[0], arrivals[^1]) < TimeSpan.FromSeconds(10),
            "the open model waited for answers before sending");
        Assert.True(_server.MaxInFlight >= 2, $"at most {_server.MaxInFlight} request(s) were in flight at once");
        Assert.True(step.Latency.MinMs >= 1400, $"min latency {step.Latency.MinMs} ms is below the server's delay");
        Assert.Equal(20, result.Scheduled);
    }

    [Fact]
    public async Task RunAsync_OpenModelInFlightCap_DropsAndCountsInsteadOfWaiting()
    {
        using var clients = new ClientPool(2, TimeSpan.FromSeconds(30), 64);
        var runner = new ScenarioRunner(clients, new RunBounds { MaxInFlight = 2 });

        var result = await runner.RunAsync(Scenario(new InjectPhase(20, TimeSpan.FromSeconds(1)), Get("slow", "/delay/3000")));
        var step = StepReport.From(result.Steps[0], result.Window);

        Assert.Equal(20, step.Scheduled);
        Assert.Equal(20, step.Ok + step.Dropped);
        Assert.InRange(step.Ok, 2, 4);
        Assert.True(_server.MaxInFlight <= 2);
        var dropped = Threshold.Parse("dropped <= 0").Evaluate(ReportBuilder.Build(result, null, []));
        Assert.False(dropped.Passed);
    }

    [Fact]
    public async Task RunAsync_ClosedModel_NeverMoreInFlightThanUsers()
    {
        using var clients = new ClientPool(3, TimeSpan.FromSeconds(30), 64);
        var runner = new ScenarioRunner(clients, new RunBounds());

        var result = await runner.RunAsync(Scenario(new KeepConstantPhase(3, TimeSpan.FromSeconds(1)), Get("fast", "/delay/50")));
        var step = StepReport.From(result.Steps[0], result.Window);

        Assert.True(step.Ok >= 3, $"{step.Ok} ok");
        Assert.InRange(_server.MaxInFlight, 1, 3);
        Assert.Equal(0, step.Dropped);
    }

    [Fact]
    public async Task RunAsync_MaxRequests_BoundsTheRun()
    {
        using var clients = new ClientPool(2, TimeSpan.FromSeconds(30), 64);
        var runner = new ScenarioRunner(clients, new RunBounds { MaxRequests = 5 });

        var open = await runner.RunAsync(Scenario(new InjectPhase(200, TimeSpan.FromSeconds(5)), Get("fast", "/delay/1")));
        var closed = await runner.RunAsync(Scenario(new KeepConstantPhase(4, TimeSpan.FromSeconds(5)), Get("fast", "/delay/1")));

        Assert.Equal(5, StepReport.From(open.Steps[0], open.Elapsed).Requests);
        Assert.Equal(5, StepReport.From(closed.Steps[0], closed.Elapsed).Requests);
        Assert.True(open.Elapsed < TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task RunAsync_MaxDuration_CancelsInFlightAndFailsTheRun()
    {
        using var clients = new ClientPool(1, TimeSpan.FromSeconds(30), 64);
        var runner = new ScenarioRunner(clients, new RunBounds { MaxDuration = TimeSpan.FromSeconds(1) });

        var result = await runner.RunAsync(Scenario(new InjectPhase(5, TimeSpan.FromSeconds(1)), Get("stuck", "/delay/20000")));
        var report = ReportBuilder.Build(result, null, []);

        Assert.True(result.HitTimeCap);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(0, report.Total.Ok);
        Assert.True(report.Total.StatusCodes.ContainsKey("cancelled"));
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task RunAsync_WeightedStepsAndStatuses_RecordedPerStepAndInTotal()
    {
        using var clients = new ClientPool(8, TimeSpan.FromSeconds(30), 64);
        var runner = new ScenarioRunner(clients, new RunBounds());

        var result = await runner.RunAsync(Scenario(new InjectPhase(100, TimeSpan.FromSeconds(1)),
            Get("ok", "/delay/1", weight: 3), Get("shed", "/status/503", weight: 1)));
        var report = ReportBuilder.Build(result, null, [Threshold.Parse("shed:fail_ratio <= 0")]);

        var ok = report.Steps.Single(s => s.Name == "ok");
        var shed = report.Steps.Single(s => s.Name == "shed");
        Assert.Equal(100, report.Total.Requests);
        Assert.Equal(ok.Ok, report.Total.Ok);
        Assert.Equal(shed.Requests, shed.Failed);
        Assert.Equal(new Dictionary<string, long> { ["503"] = shed.Failed }, shed.StatusCodes);
        Assert.InRange(shed.Requests, 10, 40);
        Assert.Equal(100, report.Total.Workers["test-worker"]);
        Assert.Equal(8, _server.Sources.Count);
        Assert.All(_server.Sources.Keys, a => Assert.StartsWith("127.0.1.", a, StringComparison.Ordinal));
        Assert.False(report.Passed);
    }

    [Fact]
    public void PickStep_SameSeedAndIndex_SameStepWithTheWeightsShare()
    {
        StepDefinition[] steps = [Get("routine", "/", 9), Get("stat", "/", 1)];

        var picks = Enumerable.Range(0, 20_000).Select(i => ScenarioRunner.PickStep(steps, i, seed: 7)).ToList();
        var again = Enumerable.Range(0, 20_000).Select(i => ScenarioRunner.PickStep(steps, i, seed: 7)).ToList();

        Assert.Equal(picks, again);
        Assert.InRange(picks.Count(p => p == 1) / 20_000.0, 0.099, 0.101);
        // Evenly spread: every window of 20 consecutive requests holds one to three stat requests.
        Assert.All(Enumerable.Range(0, 1000), w => Assert.InRange(picks.Skip(w * 20).Take(20).Count(p => p == 1), 1, 3));
        Assert.NotEqual(picks, Enumerable.Range(0, 20_000).Select(i => ScenarioRunner.PickStep(steps, i, seed: 8)));
    }
}
