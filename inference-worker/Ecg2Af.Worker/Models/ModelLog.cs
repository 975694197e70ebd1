namespace Ecg2Af.Worker.Models;

internal static partial class ModelLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "Model {Name}/{Version} ready: weights {Weights}, execution provider {Provider}, sha256 {Sha256}")]
    public static partial void ModelLoaded(this ILogger logger, string name, string version, string weights, string provider, string sha256);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Running on the CPU: {Reason}")]
    public static partial void CudaFallback(this ILogger logger, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Critical, Message = "The model cannot serve; the worker stops")]
    public static partial void ModelLoadFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Built the stand-in ECG2AF model in {Directory}")]
    public static partial void StandInBuilt(this ILogger logger, string directory);
}
