using Microsoft.ML.OnnxRuntime;

namespace Ecg2Af.Inference.Runtime;

/// <summary>One message of ONNX Runtime's own log (severity Warning or above).</summary>
public readonly record struct NativeLogEntry(OrtLoggingLevel Severity, string Category, string CodeLocation, string Message)
{
    /// <summary>
    /// True for ONNX Runtime's lines about a CUDA provider library it could not load: expected on a host without
    /// CUDA under <c>Auto</c>, and already reported (classified) as the fallback reason.
    /// </summary>
    public bool IsProviderLoadFailure =>
        Message.Contains("Failed to load library", StringComparison.Ordinal) || CodeLocation.Contains("provider_bridge", StringComparison.Ordinal);

    /// <summary>True for the session-creation warning that some nodes were not placed on the preferred (CUDA) provider.</summary>
    public bool IsNodePlacement =>
        Message.Contains("were not assigned to the preferred execution providers", StringComparison.Ordinal)
        || Message.Contains("Node placements", StringComparison.Ordinal);
}

/// <summary>
/// Creates the process-wide ONNX Runtime environment once, before any other ONNX Runtime call, with ONNX Runtime's
/// native log at Warning routed to <see cref="Listen"/>'s sink (the worker's logger) instead of stderr: placement
/// warnings ("some nodes were not assigned to the preferred execution providers") are seen, and a failed CUDA probe
/// is captured for <see cref="ProviderFallback.Classify"/>.
/// </summary>
public static class OrtEnvironment
{
    private static readonly DOrtLoggingFunction Callback = OnNativeLog;
    private static readonly Lazy<OrtEnv> Instance = new(Create);
    private static Action<NativeLogEntry>? _sink;

    [ThreadStatic]
    private static List<NativeLogEntry>? _capture;

    /// <summary>
    /// Where ONNX Runtime's native log goes (set by the host before the first model loads). Unset, warnings and
    /// errors go to stderr, except the provider-load failures the fallback reason already reports.
    /// </summary>
    public static void Listen(Action<NativeLogEntry>? sink) => _sink = sink;

    /// <summary>True when this process created the environment (with the log routed); false when something else had.</summary>
    public static bool RoutesNativeLog { get; private set; }

    /// <summary>Creates the environment (log routed) if nothing has yet.</summary>
    public static void EnsureCreated() => _ = Instance.Value;

    /// <summary>
    /// Collects the native log entries written on this thread until the scope is disposed (ONNX Runtime logs a
    /// provider-library load failure synchronously, on the thread that appends the provider).
    /// </summary>
    internal static CaptureScope Capture() => new();

    private static OrtEnv Create()
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
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
            loggingFunction = Callback,
        };
        var env = OrtEnv.CreateInstanceWithOptions(ref options);
        RoutesNativeLog = true;
        return env;
    }

    private static void OnNativeLog(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        var entry = new NativeLogEntry(severity, category ?? "", codeLocation ?? "", message ?? "");
        _capture?.Add(entry);
        var sink = _sink;
        if (sink is not null)
        {
            sink(entry);
        }
        else if (severity >= OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING && !entry.IsProviderLoadFailure)
        {
            // A CUDA library that does not load is expected under Auto on a host without CUDA, and the runner reports
            // it (classified) as its fallback reason; hosts without a sink (the CLI, tests) are spared ORT's line.
            Console.Error.WriteLine($"onnxruntime [{severity}] {entry.Message}");
        }
    }

    internal sealed class CaptureScope : IDisposable
    {
        private readonly List<NativeLogEntry>? _previous;

        public CaptureScope()
        {
            _previous = _capture;
            _capture = [];
        }

        public IReadOnlyList<NativeLogEntry> Entries => _capture ?? [];

        public void Dispose()
        {
            // An enclosing scope sees what this one saw.
            if (_capture is { } inner)
            {
                _previous?.AddRange(inner);
            }

            _capture = _previous;
        }
    }
}
