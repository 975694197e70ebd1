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
        // Something in the process (a test's own session, say) may have created the default environment already;
        // it is process-wide and cannot be created twice, so use it as it is.
        if (OrtEnv.IsCreated)
        {
            return OrtEnv.Instance();
        }

        var options = new EnvironmentCreationOptions
        {
            logId = "ecg2af",
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        return OrtEnv.CreateInstanceWithOptions(ref options);
    });

    public static void EnsureCreated() => _ = Instance.Value;
}
