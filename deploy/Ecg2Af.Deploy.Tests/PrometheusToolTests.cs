using Ecg2Af.Deploy.Tests.Support;

namespace Ecg2Af.Deploy.Tests;

/// <summary><c>promtool</c> (Debian's prometheus package) on the project's scrape config, rules and alert unit tests.</summary>
public sealed class PrometheusToolTests
{
    private static string Folder => Path.Combine(Expressions.Deploy, "prometheus");

    [Fact]
    public void CheckConfig_ScrapeConfig_Valid() =>
        AssertSucceeds("check", "config", Path.Combine(Folder, "prometheus.yml"));

    [Fact]
    public void CheckRules_RecordingAndAlertingRules_Valid() =>
        AssertSucceeds(["check", "rules", .. Expressions.RuleFiles]);

    /// <summary>Each alert fires on a synthetic series over its threshold and stays silent on a healthy one.</summary>
    [Fact]
    public void TestRules_AlertUnitTests_Pass()
    {
        var tests = Directory.GetFiles(Path.Combine(Folder, "tests"), "*.yml");
        Assert.NotEmpty(tests);
        var alerts = Expressions.FromRules().Where(e => e.Kind == ExpressionKind.Alert).Select(e => e.Source["alert ".Length..]).ToList();
        var tested = string.Join('\n', tests.Select(File.ReadAllText));
        Assert.All(alerts, a => Assert.Contains($"alertname: {a}", tested, StringComparison.Ordinal));
        AssertSucceeds(["test", "rules", .. tests]);
    }

    private static void AssertSucceeds(params string[] arguments) => Tool.Run("promtool", arguments, Folder);
}
