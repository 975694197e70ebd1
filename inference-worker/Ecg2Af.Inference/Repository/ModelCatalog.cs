using System.Diagnostics;
using System.Text.RegularExpressions;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.StandIn;

namespace Ecg2Af.Inference.Repository;

/// <summary>State of a version directory in the repository.</summary>
public enum VersionState
{
    /// <summary>Seen, waiting for its files to settle or being loaded.</summary>
    Loading,

    /// <summary>Loaded, warmed up and checked; takes traffic.</summary>
    Ready,

    /// <summary>Refused: it failed to load or its checks (see the reason). Never takes traffic.</summary>
    Unavailable,
}

/// <summary>One version as the catalog knows it. <see cref="Served"/> is null unless it is ready.</summary>
public sealed record VersionView(string Version, VersionState State, string? Reason, ServedVersion? Served);

/// <summary>One model: its versions in <see cref="VersionOrder"/> (oldest first) and the version that serves by default.</summary>
public sealed record ModelView(string Name, IReadOnlyList<VersionView> Versions)
{
    /// <summary>The latest ready version: what a request that names no version gets.</summary>
    public VersionView? Latest => Versions.LastOrDefault(v => v.State == VersionState.Ready);

    public VersionView? Find(string version) => Versions.FirstOrDefault(v => v.Version == version);
}

/// <summary>How <see cref="ModelCatalog.Acquire"/> went.</summary>
public enum ResolveStatus
{
    Ready,
    UnknownModel,
    UnknownVersion,

    /// <summary>The model or version exists but cannot serve now (loading, refused, or no version ready).</summary>
    NotReady,
}

/// <summary>The outcome of resolving a model and version for a request; <see cref="Lease"/> is set when ready.</summary>
public sealed record Resolution(ResolveStatus Status, VersionLease? Lease, string Message);

/// <summary>What the catalog reports as it loads and unloads versions (for logs and metrics). Must not throw.</summary>
public interface IRepositoryEvents
{
    /// <summary>A version took traffic; <paramref name="replaced"/> is the earlier content of the same version, now retired.</summary>
    void VersionLoaded(ServedVersion version, ServedVersion? replaced);

    /// <summary>A version failed to load or its checks; <paramref name="keepsServingEarlierContent"/>: its previous content still serves.</summary>
    void VersionRefused(string model, string version, string reason, bool keepsServingEarlierContent);

    /// <summary>A version's directory went away: it takes no new requests and unloads once its in-flight requests finish.</summary>
    void VersionRetired(ServedVersion version);

    void StandInBuilt(string directory);
}

/// <summary>
/// The model repository as served: <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx + model.json</c>, several
/// models and versions at once, the latest ready version of a model serving by default.
/// <para>Hot reload: <see cref="Sync"/> (driven by <see cref="RunAsync"/>: a poll plus a file-system watcher) notices new,
/// changed and removed version directories. A new or changed version is loaded only once both files exist and have
/// stopped changing for <see cref="ModelRepositoryOptions.SettleTime"/>; it is warmed up and checked on the side
/// (<see cref="ServedVersion.Load"/>, plus the same input contract as the model's other ready versions) and only then
/// takes traffic. A version that fails is reported and never replaces a working one; it is retried only when its files
/// change. A removed version takes no new requests and unloads once its in-flight requests finish.</para>
/// </summary>
public sealed partial class ModelCatalog : IDisposable
{
    private readonly ModelRepositoryOptions _options;
    private readonly RuntimeOptions _runtime;
    private readonly int _sessions;
    private readonly IRepositoryEvents _events;
    private readonly object _syncLock = new();
    private readonly Dictionary<string, SortedDictionary<string, Slot>> _models = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0);
    private volatile IReadOnlyDictionary<string, ModelView> _snapshot = new Dictionary<string, ModelView>();
    private FileSystemWatcher? _watcher;
    private volatile bool _initialSyncDone;
    private bool _disposed;

    /// <param name="options">Repository location and reload settings.</param>
    /// <param name="runtime">ONNX Runtime settings for every session (thread budget already resolved).</param>
    /// <param name="sessionsPerVersion">Sessions per version: one per inference loop.</param>
    /// <param name="events">Load and unload reports.</param>
    public ModelCatalog(ModelRepositoryOptions options, RuntimeOptions runtime, int sessionsPerVersion, IRepositoryEvents events)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentOutOfRangeException.ThrowIfLessThan(sessionsPerVersion, 1);
        _options = options;
        _runtime = runtime;
        _sessions = sessionsPerVersion;
        _events = events;
        Root = Path.GetFullPath(options.RepositoryPath);
    }

    public string Root { get; }

    public string DefaultModel => _options.Name;

    /// <summary>Every model the repository holds, by name.</summary>
    public IReadOnlyDictionary<string, ModelView> Models => _snapshot;

    /// <summary>True when the default model has a ready version.</summary>
    public bool DefaultModelServes => _snapshot.TryGetValue(DefaultModel, out var model) && model.Latest is not null;

    /// <summary>
    /// True once the versions present at start-up have all been loaded or refused (<see cref="Sync"/> with
    /// <c>initial</c>) and the default model serves: the worker's readiness.
    /// </summary>
    public bool IsReady => _initialSyncDone && DefaultModelServes;

    /// <summary>
    /// Resolves <paramref name="model"/> (null: the default model) and <paramref name="version"/> (null: its latest ready
    /// version) and takes a lease on it, so the version stays loaded until the caller disposes the lease.
    /// </summary>
    public Resolution Acquire(string? model, string? version)
    {
        var name = model ?? DefaultModel;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (status, served, message) = Resolve(name, version);
            if (served is null)
            {
                return new Resolution(status, null, message);
            }

            if (served.TryAcquire() is { } lease)
            {
                return new Resolution(ResolveStatus.Ready, lease, message);
            }

            // Retired between the lookup and the lease (a reload or removal): look again.
        }

        return new Resolution(ResolveStatus.NotReady, null, $"Model '{name}' is being reloaded; retry shortly.");
    }

    /// <summary>Finds the version a request for <paramref name="name"/> and <paramref name="version"/> would get, without a lease.</summary>
    public (ResolveStatus Status, ServedVersion? Served, string Message) Resolve(string name, string? version)
    {
        if (!_snapshot.TryGetValue(name, out var entry))
        {
            return (ResolveStatus.UnknownModel, null, $"Unknown model '{name}'.");
        }

        VersionView? view;
        if (version is null)
        {
            view = entry.Latest;
            if (view is null)
            {
                return (ResolveStatus.NotReady, null, $"Model '{name}' has no version ready to serve.");
            }
        }
        else
        {
            view = entry.Find(version);
            if (view is null)
            {
                return (ResolveStatus.UnknownVersion, null, $"Unknown version '{version}' of model '{name}'.");
            }

            if (view.Served is null)
            {
                return (ResolveStatus.NotReady, null, view.State == VersionState.Loading
                    ? $"Model '{name}' version '{version}' is still loading."
                    : $"Model '{name}' version '{version}' is not available: {view.Reason}");
            }
        }

        return (ResolveStatus.Ready, view.Served, $"{name}/{view.Version}");
    }

    /// <summary>
    /// Builds the stand-in into <c>&lt;root&gt;/ecg2af/1</c> when that is the default model, it has no complete version
    /// and <see cref="ModelRepositoryOptions.BuildStandInWhenMissing"/> is set. It is written into a scratch directory
    /// and moved into place, so workers sharing the repository never see half-written files.
    /// </summary>
    public void BuildStandInIfMissing()
    {
        if (!_options.BuildStandInWhenMissing || DefaultModel != ModelRepositoryOptions.StandInName)
        {
            return;
        }

        var modelRoot = Path.Combine(Root, DefaultModel);
        if (Scan(Root).Any(c => c.Model == DefaultModel))
        {
            return;
        }

        Directory.CreateDirectory(modelRoot);
        var target = Path.Combine(modelRoot, "1");
        var scratch = Path.Combine(modelRoot, $".building-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            StandInModel.Write(scratch, name: DefaultModel, version: "1");
            try
            {
                Directory.Move(scratch, target);
                _events.StandInBuilt(target);
            }
            catch (IOException) when (File.Exists(Path.Combine(target, ModelFiles.Onnx)))
            {
                // Another worker sharing the repository built it first.
            }
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>
    /// Scans the repository once and brings the served set in line with it. <paramref name="initial"/>: load what is
    /// there at once (no settle wait), as at start-up. Returns when a version still settling should be looked at again.
    /// </summary>
    public TimeSpan? Sync(bool initial = false)
    {
        lock (_syncLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = Stopwatch.GetTimestamp();
            var candidates = Scan(Root).ToDictionary(c => (c.Model, c.Version));
            TimeSpan? recheck = null;

            // Gone (directory removed or a file missing): retire; in-flight requests finish on it. The new snapshot is
            // published before the old versions retire, so a request never finds only retired versions to lease.
            var gone = new List<ServedVersion>();
            foreach (var (model, versions) in _models.ToList())
            {
                foreach (var (version, slot) in versions.ToList())
                {
                    if (!candidates.ContainsKey((model, version)))
                    {
                        versions.Remove(version);
                        if (slot.Served is { } served)
                        {
                            gone.Add(served);
                        }
                    }
                }

                if (versions.Count == 0)
                {
                    _models.Remove(model);
                }
            }

            Publish();
            foreach (var served in gone)
            {
                served.Retire();
                _events.VersionRetired(served);
            }

            foreach (var candidate in candidates.Values.OrderBy(c => c.Model, StringComparer.Ordinal).ThenBy(c => c.Version, VersionOrder.Instance))
            {
                if (!_models.TryGetValue(candidate.Model, out var versions))
                {
                    _models[candidate.Model] = versions = new SortedDictionary<string, Slot>(VersionOrder.Instance);
                }

                if (!versions.TryGetValue(candidate.Version, out var slot))
                {
                    versions[candidate.Version] = slot = new Slot(candidate.Directory);
                    Publish();
                }

                if (slot.Settled == candidate.Fingerprint)
                {
                    continue;
                }

                if (!initial && _options.SettleTime > TimeSpan.Zero)
                {
                    if (slot.Seen != candidate.Fingerprint)
                    {
                        slot.Seen = candidate.Fingerprint;
                        slot.SeenAt = now;
                        recheck = Min(recheck, _options.SettleTime);
                        continue;
                    }

                    var stable = Stopwatch.GetElapsedTime(slot.SeenAt, now);
                    if (stable < _options.SettleTime)
                    {
                        recheck = Min(recheck, _options.SettleTime - stable);
                        continue;
                    }
                }

                var replaced = Load(candidate, slot, versions);
                Publish();
                replaced?.Retire();
            }

            _initialSyncDone |= initial;
            return recheck;
        }
    }

    /// <summary>Keeps the served set in line with the repository until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        StartWatching();
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan? recheck;
            try
            {
                recheck = await Task.Run(() => Sync(), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var wait = recheck is { } r && r < _options.PollInterval ? r : _options.PollInterval;
            try
            {
                if (await _changed.WaitAsync(wait, cancellationToken))
                {
                    // Coalesce a burst of file events (a copy touches each file many times).
                    await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
                    while (_changed.CurrentCount > 0 && _changed.Wait(0))
                    {
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Retires every version (each unloads once its in-flight requests finish) and stops watching.</summary>
    public void Dispose()
    {
        lock (_syncLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _watcher?.Dispose();
            foreach (var versions in _models.Values)
            {
                foreach (var slot in versions.Values)
                {
                    slot.Served?.Retire();
                }
            }

            _models.Clear();
            Publish();
        }

        _changed.Dispose();
    }

    /// <summary>Complete version directories under <paramref name="root"/> (both files present), with their fingerprints.</summary>
    internal static IEnumerable<Candidate> Scan(string root)
    {
        if (!Directory.Exists(root))
        {
            yield break;
        }

        foreach (var modelDir in SafeDirectories(root))
        {
            var model = Path.GetFileName(modelDir);
            if (!ValidName().IsMatch(model))
            {
                continue;
            }

            foreach (var versionDir in SafeDirectories(modelDir))
            {
                var version = Path.GetFileName(versionDir);
                if (!ValidName().IsMatch(version))
                {
                    continue;
                }

                var onnx = new FileInfo(Path.Combine(versionDir, ModelFiles.Onnx));
                var json = new FileInfo(Path.Combine(versionDir, ModelFiles.Signature));
                if (onnx.Exists && json.Exists)
                {
                    yield return new Candidate(model, version, versionDir,
                        new Fingerprint(onnx.Length, onnx.LastWriteTimeUtc.Ticks, json.Length, json.LastWriteTimeUtc.Ticks));
                }
            }
        }
    }

    /// <summary>
    /// Loads and checks a candidate into its slot. Returns the version it replaced, which the caller retires only after
    /// publishing the snapshot that no longer names it.
    /// </summary>
    private ServedVersion? Load(Candidate candidate, Slot slot, SortedDictionary<string, Slot> versions)
    {
        slot.Settled = candidate.Fingerprint;
        ServedVersion? loaded = null;
        try
        {
            loaded = ServedVersion.Load(candidate.Directory, candidate.Model, candidate.Version, _runtime, _sessions);
            CheckContract(loaded, versions, candidate.Version);
        }
        catch (Exception e) when (e is ModelLoadException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            loaded?.Retire();
            slot.Reason = e.Message;
            var keeps = slot.Served is not null;
            if (!keeps)
            {
                slot.State = VersionState.Unavailable;
            }

            _events.VersionRefused(candidate.Model, candidate.Version, e.Message, keeps);
            return null;
        }

        var earlier = slot.Served;
        slot.Served = loaded;
        slot.State = VersionState.Ready;
        slot.Reason = null;
        _events.VersionLoaded(loaded, earlier);
        return earlier;
    }

    /// <summary>A version must take the same input as the model's other ready versions, so unpinned clients keep working.</summary>
    private static void CheckContract(ServedVersion loaded, SortedDictionary<string, Slot> versions, string version)
    {
        var input = loaded.Signature.Input;
        foreach (var (otherVersion, other) in versions)
        {
            if (otherVersion == version || other.Served is not { } served)
            {
                continue;
            }

            var current = served.Signature.Input;
            if (current.Name != input.Name || current.Samples != input.Samples || current.Layout != input.Layout
                || !current.Leads.SequenceEqual(input.Leads) || Math.Abs(current.SampleRateHz - input.SampleRateHz) > 1e-9)
            {
                throw new ModelLoadException(
                    $"Its input ({Describe(input)}) differs from version {otherVersion} ({Describe(current)}); " +
                    "a different input contract needs its own model name.");
            }
        }
    }

    private static string Describe(SignatureInput input) =>
        FormattableString.Invariant($"{input.Name} [N, {input.Samples}, {input.Leads.Count}] at {input.SampleRateHz} Hz");

    private void Publish()
    {
        _snapshot = _models.ToDictionary(
            m => m.Key,
            m => new ModelView(m.Key, m.Value.Select(v => new VersionView(v.Key, v.Value.State, v.Value.Reason, v.Value.Served)).ToList()),
            StringComparer.Ordinal);
    }

    private void StartWatching()
    {
        if (!_options.WatchFileSystem || _watcher is not null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Root);
            var watcher = new FileSystemWatcher(Root)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.DirectoryName | NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            FileSystemEventHandler onChange = (_, _) => Signal();
            watcher.Created += onChange;
            watcher.Changed += onChange;
            watcher.Deleted += onChange;
            watcher.Renamed += (_, _) => Signal();
            watcher.Error += (_, _) => Signal();
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            // No watcher (e.g. out of inotify instances): the poll alone keeps the catalog current.
        }
    }

    private void Signal()
    {
        try
        {
            if (_changed.CurrentCount == 0)
            {
                _changed.Release();
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;

    [GeneratedRegex(ModelRepositoryOptions.NamePattern)]
    private static partial Regex ValidName();

    internal readonly record struct Fingerprint(long OnnxLength, long OnnxWriteTicks, long JsonLength, long JsonWriteTicks);

    internal sealed record Candidate(string Model, string Version, string Directory, Fingerprint Fingerprint);

    private sealed class Slot(string directory)
    {
        public string Directory { get; } = directory;

        public VersionState State { get; set; } = VersionState.Loading;

        public string? Reason { get; set; }

        public ServedVersion? Served { get; set; }

        /// <summary>The file state last loaded (or refused): unchanged files are not loaded again.</summary>
        public Fingerprint? Settled { get; set; }

        /// <summary>The file state last seen while waiting for it to settle.</summary>
        public Fingerprint? Seen { get; set; }

        public long SeenAt { get; set; }
    }
}
