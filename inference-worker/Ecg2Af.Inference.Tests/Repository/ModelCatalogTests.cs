using System.Collections.Concurrent;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Tests.Serving;

namespace Ecg2Af.Inference.Tests.Repository;

public sealed class ModelCatalogTests : IDisposable
{
    private static readonly RuntimeOptions Cpu = new() { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 };

    private readonly string _root = Directory.CreateTempSubdirectory("ecg2af-catalog-").FullName;
    private readonly RecordingEvents _events = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Acquire_SeveralModelsAndVersions_LatestServesByDefaultAndAVersionCanBePinned()
    {
        TinyModels.Write(_root, "alpha", "1");
        TinyModels.Write(_root, "alpha", "2", seed: 2);
        TinyModels.Write(_root, "alpha", "10", seed: 10);
        TinyModels.Write(_root, "beta", "2021-05-21");
        using var catalog = Catalog(defaultModel: "alpha");
        catalog.Sync(initial: true);

        Assert.Equal(["alpha", "beta"], catalog.Models.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["1", "2", "10"], catalog.Models["alpha"].Versions.Select(v => v.Version));
        using (var latest = Lease(catalog, null, null))
        {
            Assert.Equal(("alpha", "10"), (latest.Version.ModelName, latest.Version.ModelVersion));
        }

        using (var pinned = Lease(catalog, "alpha", "2"))
        {
            Assert.Equal("2", pinned.Version.ModelVersion);
        }

        using (var other = Lease(catalog, "beta", null))
        {
            Assert.Equal("2021-05-21", other.Version.ModelVersion);
        }

        Assert.Equal(ResolveStatus.UnknownModel, catalog.Acquire("gamma", null).Status);
        Assert.Equal(ResolveStatus.UnknownVersion, catalog.Acquire("alpha", "3").Status);
    }

    [Fact]
    public void Sync_VersionStillBeingCopied_LoadedOnlyOnceItsFilesSettle()
    {
        TinyModels.Write(_root, "alpha", "1");
        using var catalog = Catalog(settle: TimeSpan.FromMilliseconds(300));
        catalog.Sync(initial: true);

        // A copy in progress: model.json first, then a model.onnx that is still growing.
        var source = TinyModels.Write(Path.Combine(_root, ".staging"), "alpha", "2", seed: 2);
        var target = Directory.CreateDirectory(Path.Combine(_root, "alpha", "2")).FullName;
        File.Copy(Path.Combine(source, "model.json"), Path.Combine(target, "model.json"));
        Assert.Null(catalog.Sync());
        Assert.DoesNotContain(catalog.Models["alpha"].Versions, v => v.Version == "2");

        var onnx = File.ReadAllBytes(Path.Combine(source, "model.onnx"));
        File.WriteAllBytes(Path.Combine(target, "model.onnx"), onnx[..(onnx.Length / 2)]);
        Assert.NotNull(catalog.Sync());
        Assert.Equal(VersionState.Loading, catalog.Models["alpha"].Find("2")!.State);

        File.WriteAllBytes(Path.Combine(target, "model.onnx"), onnx);
        var recheck = catalog.Sync();
        Assert.NotNull(recheck);
        Assert.Equal(VersionState.Loading, catalog.Models["alpha"].Find("2")!.State);
        using (var stillOne = Lease(catalog, null, null))
        {
            Assert.Equal("1", stillOne.Version.ModelVersion);
        }

        Thread.Sleep(recheck.Value + TimeSpan.FromMilliseconds(50));
        Assert.Null(catalog.Sync());
        using var two = Lease(catalog, null, null);
        Assert.Equal("2", two.Version.ModelVersion);
        Assert.Empty(_events.Refused);
    }

    [Fact]
    public void Sync_CorruptNewVersion_RefusedReportedAndEarlierVersionKeepsServing()
    {
        TinyModels.Write(_root, "alpha", "1");
        using var catalog = Catalog();
        catalog.Sync(initial: true);

        var broken = TinyModels.Write(_root, "alpha", "2", seed: 2);
        File.WriteAllBytes(Path.Combine(broken, "model.onnx"), "this is not an ONNX model"u8.ToArray());
        catalog.Sync();

        var view = catalog.Models["alpha"].Find("2")!;
        Assert.Equal(VersionState.Unavailable, view.State);
        Assert.Contains("cannot load", view.Reason, StringComparison.Ordinal);
        Assert.Equal(("alpha", "2"), Assert.Single(_events.Refused));
        Assert.Equal(ResolveStatus.NotReady, catalog.Acquire("alpha", "2").Status);
        using (var serving = Lease(catalog, null, null))
        {
            Assert.Equal("1", serving.Version.ModelVersion);
        }

        // Unchanged files are not retried; fixed files are.
        catalog.Sync();
        Assert.Single(_events.Refused);
        TinyModels.Write(_root, "alpha", "2", seed: 2);
        catalog.Sync();
        using var fixedVersion = Lease(catalog, null, null);
        Assert.Equal("2", fixedVersion.Version.ModelVersion);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("contract")]
    public void Sync_IncompatibleNewVersion_Refused(string mismatch)
    {
        TinyModels.Write(_root, "alpha", "1");
        using var catalog = Catalog();
        catalog.Sync(initial: true);

        if (mismatch == "name")
        {
            TinyModels.Write(_root, "alpha", "2", signatureName: "beta");
        }
        else
        {
            TinyModels.Write(_root, "alpha", "2", samples: 2500);
        }

        catalog.Sync();
        var view = catalog.Models["alpha"].Find("2")!;
        Assert.Equal(VersionState.Unavailable, view.State);
        Assert.Contains(mismatch == "name" ? "lives in alpha/2" : "differs from version 1", view.Reason, StringComparison.Ordinal);
        using var serving = Lease(catalog, null, null);
        Assert.Equal("1", serving.Version.ModelVersion);
    }

    [Fact]
    public void Sync_VersionRemoved_TakesNoNewRequestsAndUnloadsAfterInFlightOnes()
    {
        TinyModels.Write(_root, "alpha", "1");
        var two = TinyModels.Write(_root, "alpha", "2", seed: 2);
        using var catalog = Catalog();
        catalog.Sync(initial: true);
        var inFlight = Lease(catalog, null, null);
        Assert.Equal("2", inFlight.Version.ModelVersion);

        Directory.Delete(two, recursive: true);
        catalog.Sync();

        using (var next = Lease(catalog, null, null))
        {
            Assert.Equal("1", next.Version.ModelVersion);
        }

        Assert.Equal(ResolveStatus.UnknownVersion, catalog.Acquire("alpha", "2").Status);
        Assert.True(inFlight.Version.IsRetired);
        Assert.False(inFlight.Version.Unloaded.IsCompleted);
        var outputs = inFlight.Version.OutputSizes.Select(size => new float[size]).ToArray();
        inFlight.Version.Run(0, TinyModels.Input(1), 1, outputs);
        Assert.All(outputs.SelectMany(o => o), v => Assert.True(float.IsFinite(v)));

        inFlight.Dispose();
        Assert.True(inFlight.Version.Unloaded.IsCompleted);
        Assert.Equal(("alpha", "2"), Assert.Single(_events.Retired));
    }

    [Fact]
    public void Sync_FilesOfAServingVersionChange_NewContentReplacesItAfterItsChecks()
    {
        TinyModels.Write(_root, "alpha", "1", seed: 1);
        using var catalog = Catalog();
        catalog.Sync(initial: true);
        var before = Lease(catalog, null, null);

        TinyModels.Write(_root, "alpha", "1", seed: 7);
        catalog.Sync();
        using var after = Lease(catalog, null, null);

        Assert.NotSame(before.Version, after.Version);
        Assert.NotEqual(before.Version.Model.OnnxSha256, after.Version.Model.OnnxSha256);
        Assert.True(before.Version.IsRetired);
        before.Dispose();
        Assert.True(before.Version.Unloaded.IsCompleted);
    }

    [Fact]
    public async Task RunAsync_VersionDropped_FileWatcherLoadsItWithoutWaitingForThePoll()
    {
        TinyModels.Write(_root, "alpha", "1");
        using var catalog = Catalog(poll: TimeSpan.FromMinutes(30), settle: TimeSpan.FromMilliseconds(100));
        catalog.Sync(initial: true);
        using var stop = new CancellationTokenSource();
        var running = catalog.RunAsync(stop.Token);

        // Written elsewhere and moved into place, as an import or deployment would.
        var staged = TinyModels.Write(Path.Combine(_root, ".staging"), "alpha", "2", seed: 2);
        Directory.Move(staged, Path.Combine(_root, "alpha", "2"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (catalog.Resolve("alpha", null).Served?.ModelVersion != "2" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("2", catalog.Resolve("alpha", null).Served?.ModelVersion);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task BuildStandInIfMissing_TwoWorkersShareAnEmptyRepository_OneCompleteVersionThatServes()
    {
        using var first = Catalog(defaultModel: ModelRepositoryOptions.StandInName, buildStandIn: true);
        using var second = Catalog(defaultModel: ModelRepositoryOptions.StandInName, buildStandIn: true);

        await Task.WhenAll(Task.Run(first.BuildStandInIfMissing), Task.Run(second.BuildStandInIfMissing));

        var modelRoot = Path.Combine(_root, ModelRepositoryOptions.StandInName);
        var version = Assert.Single(Directory.GetDirectories(modelRoot));
        Assert.Equal("1", Path.GetFileName(version));
        Assert.Equal(["model.json", "model.onnx"], Directory.GetFiles(version).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.NotEmpty(_events.StandIns);
        first.Sync(initial: true);
        Assert.True(first.IsReady);
        using var lease = Lease(first, null, null);
        Assert.Equal(Provenance.StandIn, lease.Version.Signature.Provenance.Weights);
    }

    [Theory]
    [InlineData("1", "2")]
    [InlineData("2", "10")]
    [InlineData("9", "10")]
    [InlineData("2021-05-21", "2024-01-13")]
    [InlineData("1.9", "1.10")]
    [InlineData("1", "1a")]
    public void VersionOrder_Compare_NumbersCompareByValue(string older, string newer)
    {
        Assert.True(VersionOrder.Instance.Compare(older, newer) < 0);
        Assert.True(VersionOrder.Instance.Compare(newer, older) > 0);
        Assert.Equal(0, VersionOrder.Instance.Compare(newer, newer));
    }

    private ModelCatalog Catalog(string defaultModel = "alpha", TimeSpan? poll = null, TimeSpan? settle = null, bool buildStandIn = false) =>
        new(new ModelRepositoryOptions
        {
            RepositoryPath = _root,
            Name = defaultModel,
            BuildStandInWhenMissing = buildStandIn,
            PollInterval = poll ?? TimeSpan.FromSeconds(1),
            SettleTime = settle ?? TimeSpan.Zero,
        }, Cpu, sessionsPerVersion: 1, _events);

    private static VersionLease Lease(ModelCatalog catalog, string? model, string? version)
    {
        var resolution = catalog.Acquire(model, version);
        return resolution.Lease ?? throw new Xunit.Sdk.XunitException($"{resolution.Status}: {resolution.Message}");
    }

    private sealed class RecordingEvents : IRepositoryEvents
    {
        public ConcurrentQueue<(string, string)> Loaded { get; } = new();

        public ConcurrentQueue<(string, string)> Refused { get; } = new();

        public ConcurrentQueue<(string, string)> Retired { get; } = new();

        public ConcurrentQueue<string> StandIns { get; } = new();

        public void VersionLoaded(ServedVersion version, ServedVersion? replaced) => Loaded.Enqueue((version.ModelName, version.ModelVersion));

        public void VersionRefused(string model, string version, string reason, bool keepsServingEarlierContent) => Refused.Enqueue((model, version));

        public void VersionRetired(ServedVersion version) => Retired.Enqueue((version.ModelName, version.ModelVersion));

        public void StandInBuilt(string directory) => StandIns.Enqueue(directory);
    }
}
