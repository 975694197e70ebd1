using Ecg2Af.Ecg;
using Ecg2Af.Inference.Batch;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Cli.Predict;

/// <summary>
/// Scores on this machine, without a server: the model repository as the worker loads it (the stand-in is built when
/// the default model has no version), the worker's batcher in-process, and the worker's <see cref="BatchScorer"/>, so
/// each record gets exactly the JSON the worker's batch endpoint gives.
/// </summary>
internal sealed class LocalScoring : IDisposable
{
    private readonly ModelCatalog _catalog;
    private readonly InferenceScheduler _scheduler;
    private readonly VersionLease _lease;
    private readonly BatchScorer _scorer;

    private LocalScoring(ModelCatalog catalog, InferenceScheduler scheduler, VersionLease lease)
    {
        _catalog = catalog;
        _scheduler = scheduler;
        _lease = lease;
        _scorer = new BatchScorer(scheduler);
    }

    public string Model => $"{_lease.Version.ModelName}/{_lease.Version.ModelVersion} ({_lease.Version.Signature.Provenance.Weights}, {_lease.Version.ExecutionProvider})";

    public static LocalScoring Open(string repository, string model, string? version, int maxBatch, Action<string> say)
    {
        var runtimeDefaults = new RuntimeOptions();
        var scheduling = new SchedulerOptions
        {
            MaxBatchSize = maxBatch,
            InferenceLoops = ThreadBudget.Loops(runtimeDefaults, 0, Environment.ProcessorCount),
        };
        var (runtime, error) = ThreadBudget.Resolve(runtimeDefaults, scheduling.InferenceLoops, Environment.ProcessorCount);
        if (runtime is null)
        {
            throw new PredictException(error!);
        }

        var catalog = new ModelCatalog(
            new ModelRepositoryOptions { RepositoryPath = repository, Name = model, WatchFileSystem = false }, runtime, scheduling.InferenceLoops, new Events(say));
        try
        {
            catalog.BuildStandInIfMissing();
            catalog.Sync(initial: true);
            var resolution = catalog.Acquire(model, version);
            if (resolution.Lease is null)
            {
                throw new PredictException($"{resolution.Message} (model repository {catalog.Root})");
            }

            var scheduler = new InferenceScheduler(scheduling);
            scheduler.Start();
            return new LocalScoring(catalog, scheduler, resolution.Lease);
        }
        catch
        {
            catalog.Dispose();
            throw;
        }
    }

    public IAsyncEnumerable<BatchItem> ScoreAsync(IReadOnlyList<BatchRecord> records, EcgReadOptions readOptions, CancellationToken cancellationToken) =>
        _scorer.ScoreAsync(new BatchJob
        {
            Records = records,
            Version = _lease.Version,
            ReadOptions = readOptions,
            Priority = Priority.Batch,
            RecordTimeout = TimeSpan.FromHours(1), // nothing else competes here: no record should expire
            Window = 32,
        }, cancellationToken);

    public void Dispose()
    {
        _scheduler.Dispose();
        _lease.Dispose();
        _catalog.Dispose();
    }

    private sealed class Events(Action<string> say) : IRepositoryEvents
    {
        public void VersionLoaded(ServedVersion version, ServedVersion? replaced)
        {
        }

        public void VersionRefused(string model, string version, string reason, bool keepsServingEarlierContent) =>
            say($"Model {model}/{version} was not loaded: {reason}");

        public void VersionRetired(ServedVersion version)
        {
        }

        public void StandInBuilt(string directory) => say($"Built the stand-in model in {directory} (its outputs are not clinically meaningful).");
    }
}
