using Ecg2Af.Inference;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.StandIn;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Models;

/// <summary>
/// Loads the served model in the background after start-up (building the stand-in first when the repository is
/// empty) and warms it up; the worker reports ready only once this has succeeded.
/// </summary>
internal sealed class ModelHost(
    IOptions<ModelOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ModelHost> logger) : BackgroundService
{
    private readonly ModelOptions _options = options.Value;
    private volatile LoadedModel? _model;

    /// <summary>The model that serves, or null while loading or after a failed load.</summary>
    public LoadedModel? Current => _model;

    /// <summary>Why the model is not serving, for the readiness report.</summary>
    public string Status { get; private set; } = "loading";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        try
        {
            var modelRoot = Path.GetFullPath(Path.Combine(_options.RepositoryPath, _options.Name));
            var version = ModelRepositoryLayout.LatestVersion(modelRoot);
            if (version is null && _options.BuildStandInWhenMissing && _options.Name == ModelOptions.StandInName)
            {
                version = BuildStandIn(modelRoot);
            }

            if (version is null)
            {
                throw new ModelLoadException($"No model version under {modelRoot}.");
            }

            var model = LoadedModel.Load(version, _options.Runtime);
            logger.ModelLoaded(model.Name, model.Version, model.Signature.Provenance.Weights, model.Runner.ExecutionProvider, model.OnnxSha256);
            if (model.Runner.FallbackReason is { } reason)
            {
                logger.CudaFallback(reason);
            }

            _model = model;
            Status = "ready";
        }
        catch (ModelLoadException e)
        {
            Status = e.Message;
            logger.ModelLoadFailed(e);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }, stoppingToken);

    public override void Dispose()
    {
        _model?.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Builds the stand-in into a scratch directory and moves it into place, so workers that share a repository
    /// and start together never see a half-written version.
    /// </summary>
    private string BuildStandIn(string modelRoot)
    {
        var target = Path.Combine(modelRoot, "1");
        var scratch = Path.Combine(modelRoot, $".building-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            StandInModel.Write(scratch, name: _options.Name, version: "1");
            try
            {
                Directory.Move(scratch, target);
                logger.StandInBuilt(target);
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

        return target;
    }
}
