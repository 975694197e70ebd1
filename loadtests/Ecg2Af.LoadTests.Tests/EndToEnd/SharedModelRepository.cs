using Ecg2Af.LoadTests.Commands;

namespace Ecg2Af.LoadTests.Tests.EndToEnd;

/// <summary>
/// Shared by the end-to-end tests: one model repository (the first cluster builds the stand-in, the rest reuse it)
/// and one real gateway in front of three real workers, started on first use.
/// </summary>
public sealed class SharedModelRepository : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LocalCluster.LocalCluster? _threeWorkers;

    public string Path { get; } = Directory.CreateTempSubdirectory("ecg2af-load-tests-models-").FullName;

    public async Task<LocalCluster.LocalCluster> ThreeWorkersAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return _threeWorkers ??= await SelfHost.StartAsync(3, Path, new Dictionary<string, string>(), new Dictionary<string, string>(), CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_threeWorkers is not null)
        {
            await _threeWorkers.DisposeAsync();
        }

        _gate.Dispose();
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EndToEndCollection : ICollectionFixture<SharedModelRepository>
{
    public const string Name = "end-to-end";
}
