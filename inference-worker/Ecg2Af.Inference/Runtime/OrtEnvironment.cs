using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.Inference.Runtime;

/// <summary>
/// Creates the process-wide ONNX Runtime environment once, before any other ONNX Runtime call, with native logging
/// at Fatal: a failed CUDA probe is reported by <see cref="OnnxModelRunner"/> itself instead of ORT's red stderr lines.
/// </summary>
internal static class OrtEnvironment
{
    private static readonly Lazy<OrtEnv> Instance = new(() =>
    {
        var options = new EnvironmentCreationOptions
        {
            logId = "ecg2af",
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        return OrtEnv.CreateInstanceWithOptions(ref options);
    });

    public static void EnsureCreated() => _ = Instance.Value;
}
