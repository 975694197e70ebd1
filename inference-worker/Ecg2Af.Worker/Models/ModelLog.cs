namespace Ecg2Af.Worker.Models;

internal static partial class ModelLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "Model {Name}/{Version} serving: weights {Weights}, execution provider {Provider}, {Sessions} session(s), sha256 {Sha256}, served graph {Graph} (sha256 {GraphSha256}), loaded and checked in {LoadMs} ms")]
    public static partial void ModelLoaded(this ILogger logger, string name, string version, string weights, string provider, int sessions, string sha256,
        string graph, string graphSha256, long loadMs);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Model {Name}/{Version} runs on the CPU: {Reason}")]
    public static partial void CudaFallback(this ILogger logger, string name, string version, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Critical, Message = "The default model {Name} cannot serve ({Status}); the worker stops")]
    public static partial void DefaultModelUnavailable(this ILogger logger, string name, string status);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Built the stand-in ECG2AF model in {Directory}")]
    public static partial void StandInBuilt(this ILogger logger, string directory);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error,
        Message = "Model {Name}/{Version} refused, it takes no traffic ({Keeps}): {Reason}")]
    public static partial void ModelRefused(this ILogger logger, string name, string version, string keeps, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information,
        Message = "Model {Name}/{Version} removed from the repository: it takes no new requests and unloads once its in-flight requests finish")]
    public static partial void ModelRetired(this ILogger logger, string name, string version);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Model {Name}/{Version} unloaded")]
    public static partial void ModelUnloaded(this ILogger logger, string name, string version);

    [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "Model {Name}/{Version} reloaded: its files changed and the new content passed its checks")]
    public static partial void ModelReloaded(this ILogger logger, string name, string version);
}
