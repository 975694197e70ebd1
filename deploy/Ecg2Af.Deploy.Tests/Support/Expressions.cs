using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests.Support;

public enum ExpressionKind
{
    Panel,
    Variable,
    Recording,
    Alert,
}

/// <summary>One PromQL expression of the project, where it lives, and the text to send to Prometheus.</summary>
public sealed record Expression(ExpressionKind Kind, string Source, string Original, string Query)
{
    public override string ToString() => $"{Source}: {Query}";
}

/// <summary>Every PromQL expression in deploy/grafana/dashboards and deploy/prometheus/rules.</summary>
public static partial class Expressions
{
    /// <summary>What Grafana would put in place of its variables when every value is selected.</summary>
    public const string RateInterval = "1m";

    public static string Deploy => Path.Combine(RepositoryLayout.Root, "deploy");

    public static IEnumerable<string> DashboardFiles => Directory.EnumerateFiles(Path.Combine(Deploy, "grafana", "dashboards"), "*.json").Order();

    public static IEnumerable<string> RuleFiles => Directory.EnumerateFiles(Path.Combine(Deploy, "prometheus", "rules"), "*.yml").Order();

    public static IReadOnlyList<Expression> All() => [.. FromDashboards(), .. FromRules()];

    public static IEnumerable<Expression> FromDashboards()
    {
        foreach (var file in DashboardFiles)
        {
            var board = JsonNode.Parse(File.ReadAllText(file))!;
            var uid = board["uid"].Text();
            foreach (var variable in board["templating"]?["list"].Items() ?? [])
            {
                var query = variable["query"]?["query"].Text() ?? variable["query"].Text()!;
                yield return new Expression(ExpressionKind.Variable, $"{uid} variable ${variable["name"].Text()}", query, FromLabelValues(query));
            }

            foreach (var panel in Panels(board))
            {
                foreach (var target in panel["targets"].Items())
                {
                    var expr = target["expr"].Text()!;
                    yield return new Expression(ExpressionKind.Panel, $"{uid} panel '{panel["title"].Text()}' {target["refId"].Text()}", expr, Substitute(expr));
                }
            }
        }
    }

    public static IEnumerable<Expression> FromRules()
    {
        foreach (var file in RuleFiles)
        {
            foreach (var group in Yaml.Load(file)["groups"].Items())
            {
                foreach (var rule in group["rules"].Items())
                {
                    var expr = rule["expr"].Text()!.Trim();
                    yield return rule["record"] is { } record
                        ? new Expression(ExpressionKind.Recording, $"record {record.Text()}", expr, expr)
                        : new Expression(ExpressionKind.Alert, $"alert {rule["alert"].Text()}", expr, expr);
                }
            }
        }
    }

    /// <summary>Panels at any depth (rows may nest them).</summary>
    public static IEnumerable<JsonNode> Panels(JsonNode board) =>
        board["panels"].Items().SelectMany(p => new[] { p }.Concat(p["panels"].Items()));

    /// <summary>An alert's "series comparison threshold" split into the series (the part that must have data).</summary>
    public static string? AlertSeries(string expr)
    {
        var match = Comparison().Match(expr);
        return match.Success ? match.Groups["series"].Value.Trim() : null;
    }

    private static string Substitute(string expr) =>
        Variable().Replace(expr.Replace("$__rate_interval", RateInterval, StringComparison.Ordinal), ".+");

    /// <summary>Grafana's <c>label_values(selector, label)</c> as the PromQL it runs.</summary>
    private static string FromLabelValues(string query)
    {
        var match = LabelValues().Match(query);
        return match.Success ? $"group by ({match.Groups["label"].Value}) ({Substitute(match.Groups["selector"].Value)})" : Substitute(query);
    }

    [GeneratedRegex(@"\$\{?(?!__)[A-Za-z_][A-Za-z0-9_]*\}?")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>[A-Za-z_][A-Za-z0-9_]*)\)$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"^(?<series>.+?)\s*(>|<|==|!=|>=|<=)\s*[-+]?[0-9.]+(e[-+]?[0-9]+)?\s*$", RegexOptions.Singleline)]
    private static partial Regex Comparison();
}
