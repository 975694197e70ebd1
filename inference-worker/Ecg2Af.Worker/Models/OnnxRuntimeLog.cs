using Ecg2Af.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.Worker.Models;

/// <summary>
/// Routes ONNX Runtime's native log (Warning and above) to the logger category <c>OnnxRuntime</c>. A CUDA provider
/// library that fails to load is expected under <c>Auto</c> on a host without CUDA and is reported, classified, as
/// the fallback warning, so ONNX Runtime's own line about it is logged at Debug.
/// </summary>
internal static partial class OnnxRuntimeLog
{
    public static void Route(ILoggerFactory factory)
    {
        var logger = factory.CreateLogger("OnnxRuntime");
        OrtEnvironment.Listen(entry =>
        {
            var level = entry.IsProviderLoadFailure ? LogLevel.Debug : entry.Severity switch
            {
                OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL => LogLevel.Critical,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR => LogLevel.Error,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING => LogLevel.Warning,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO => LogLevel.Information,
                _ => LogLevel.Debug,
            };
            Native(logger, level, entry.Category, entry.Message);
        });
    }

    [LoggerMessage(EventId = 120, Message = "[{Category}] {Message}")]
    private static partial void Native(ILogger logger, LogLevel level, string category, string message);
}
