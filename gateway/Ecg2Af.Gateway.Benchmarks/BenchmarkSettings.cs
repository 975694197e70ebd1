using System.Globalization;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Benchmarks;

/// <summary>Command-line settings, with defaults sized for a shared 2-core machine (about two minutes in all).</summary>
internal sealed record BenchmarkSettings
{
    /// <summary>Seconds per throughput phase.</summary>
    public int Seconds { get; init; } = 8;

    /// <summary>Direct-then-gateway phase pairs; alternating spreads a shared machine's drift over both modes.</summary>
    public int Pairs { get; init; } = 5;

    /// <summary>Concurrent closed-loop clients, each on its own loopback address.</summary>
    public int Clients { get; init; } = 4;

    public int Workers { get; init; } = 1;

    /// <summary>Serial requests per mode on the trivial route, in alternating blocks of 250.</summary>
    public int LatencyRequests { get; init; } = 2000;

    public string EcgPath { get; init; } = RepositoryLayout.SharedFile("ecg-samples", "muse-xml", "muse-sinus.xml");

    public string? OutputPath { get; init; }

    public static BenchmarkSettings Parse(string[] args)
    {
        var settings = new BenchmarkSettings();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            settings = args[i] switch
            {
                "--seconds" => settings with { Seconds = Int(value) },
                "--pairs" => settings with { Pairs = Int(value) },
                "--clients" => settings with { Clients = Int(value) },
                "--workers" => settings with { Workers = Int(value) },
                "--latency-requests" => settings with { LatencyRequests = Int(value) },
                "--ecg" => settings with { EcgPath = Path.GetFullPath(value) },
                "--out" => settings with { OutputPath = Path.GetFullPath(value) },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings;
    }

    private static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);
}
