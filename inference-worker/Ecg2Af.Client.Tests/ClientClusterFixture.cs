using Ecg2Af.LocalCluster;

namespace Ecg2Af.Client.Tests;

/// <summary>
/// One real gateway in front of one real worker for the client tests (one worker: a client from one address lands on
/// one worker anyway), and real ECGs from ../shared turned into model inputs by the service's own preprocess route.
/// </summary>
public sealed class ClientClusterFixture : IAsyncLifetime
{
    /// <summary>Real ECGs, each the parts of one upload.</summary>
    public static readonly string[][] Records =
    [
        ["muse-xml/muse-sinus.xml"],
        ["wfdb/muse-af.hea", "wfdb/muse-af.dat"],
    ];

    public LocalCluster.LocalCluster Cluster { get; private set; } = null!;

    /// <summary>The model input of each of <see cref="Records"/>, row-major [5000, 12].</summary>
    public IReadOnlyList<float[]> Tensors { get; private set; } = [];

    public string Model { get; private set; } = "";

    public string InputName { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions { Workers = 1 });
        using var rest = Rest();
        var tensors = new List<float[]>();
        foreach (var record in Records)
        {
            var files = new List<EcgFile>();
            foreach (var part in record)
            {
                files.Add(await EcgFile.ReadAsync(RepositoryLayout.SharedFile(["ecg-samples", .. part.Split('/')])));
            }

            using var input = await rest.PreprocessAsync(files);
            var root = input.RootElement;
            Model = root.GetProperty("model").GetString()!;
            InputName = root.GetProperty("input_name").GetString()!;
            tensors.Add([.. root.GetProperty("data").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetSingle())]);
        }

        Tensors = tensors;
    }

    /// <summary>A REST client of the gateway with the cluster's key.</summary>
    public Ecg2AfClient Rest() => new(new Ecg2AfClientOptions { BaseAddress = Cluster.GatewayUrl, ApiKey = Cluster.ApiKey.Key, Deadline = TimeSpan.FromMinutes(2) });

    /// <summary>A gRPC client of the gateway's gRPC listener, with the cluster's key unless told otherwise.</summary>
    public Ecg2AfGrpcClient Grpc(string? apiKey = "", TimeSpan? deadline = null) => new(new Ecg2AfClientOptions
    {
        BaseAddress = Cluster.GatewayGrpcUrl,
        ApiKey = apiKey == "" ? Cluster.ApiKey.Key : apiKey,
        Deadline = deadline ?? TimeSpan.FromMinutes(2),
    });

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClientClusterCollection : ICollectionFixture<ClientClusterFixture>
{
    public const string Name = "client cluster";
}
