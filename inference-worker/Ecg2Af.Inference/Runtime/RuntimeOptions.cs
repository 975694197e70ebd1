using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Inference.Runtime;

/// <summary>Which execution provider a model session should use.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when it really works (session created and a warm-up run passed), the CPU otherwise.</summary>
    Auto,

    /// <summary>CUDA or a start-up failure.</summary>
    Cuda,

    /// <summary>The CPU provider only.</summary>
    Cpu,
}

/// <summary>ONNX Runtime settings for one model session.</summary>
public sealed class RuntimeOptions
{
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    /// <summary>CUDA device ordinal.</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>Threads one Run may use on the CPU provider. 0: all processor cores.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Let intra-op threads spin briefly between work items (ONNX Runtime's default). Turning it off frees the cores
    /// for HTTP work between runs and avoids spinning threads of concurrent sessions fighting over the cores.
    /// </summary>
    public bool IntraOpSpinning { get; set; } = true;

    /// <summary>
    /// Run 1-D convolutions and poolings as their 2-D forms with height 1 (<see cref="Onnx.Conv1DTo2D"/>), which puts
    /// them on ONNX Runtime's blocked NCHWc kernels: the same outputs (within float rounding), faster on the CPU. The
    /// rewrite happens in memory when a version loads; <c>model.onnx</c> is not changed.
    /// </summary>
    public bool Conv1DAs2D { get; set; } = true;

    public RuntimeOptions Clone() => (RuntimeOptions)MemberwiseClone();
}
