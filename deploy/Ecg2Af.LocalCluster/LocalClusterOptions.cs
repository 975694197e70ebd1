namespace Ecg2Af.LocalCluster;

/// <summary>What to start.</summary>
public sealed record LocalClusterOptions
{
    public int Workers { get; init; } = 2;

    /// <summary>Model repository shared by the workers. Null: a fresh temporary folder (the stand-in is built there).</summary>
    public string? ModelRepository { get; init; }

    /// <summary>
    /// Extra configuration for every worker, as environment variables (<c>Section__Key</c>). Without
    /// <c>DOTNET_PROCESSOR_COUNT</c> here each worker gets its share of the cores (<see cref="WorkerCores.PerWorker"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> WorkerSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra configuration for the gateway, as environment variables.</summary>
    public IReadOnlyDictionary<string, string> GatewaySettings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The key configured on the gateway and every worker as <c>Security:ApiKeys:0</c> (scopes predict and admin, a
    /// rate limit high enough for any test). Null: a fresh one (<see cref="LocalCluster.ApiKey"/>). Ignored when the
    /// settings already configure entry 0 themselves.
    /// </summary>
    public TestApiKey? ApiKey { get; init; }

    /// <summary>Gateway port; 0 picks a free one.</summary>
    public int GatewayPort { get; init; }

    /// <summary>How long one worker may take to listen and report ready (the first one may build the stand-in).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
