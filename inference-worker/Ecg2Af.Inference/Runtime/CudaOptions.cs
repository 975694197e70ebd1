using System.ComponentModel.DataAnnotations;

namespace Ecg2Af.Inference.Runtime;

/// <summary>How cuDNN picks a convolution algorithm for each new input shape (ONNX Runtime's <c>cudnn_conv_algo_search</c>).</summary>
public enum ConvAlgorithmSearch
{
    /// <summary>cuDNN's heuristics: no benchmarking, so a new batch shape costs no search (the default here).</summary>
    Heuristic,

    /// <summary>Times every algorithm once per shape (ONNX Runtime's own default): fastest kernels, seconds per new shape.</summary>
    Exhaustive,

    /// <summary>cuDNN's default algorithm, no search at all.</summary>
    Default,
}

/// <summary>
/// CUDA execution provider settings (section <c>Model:Runtime:Cuda</c>), passed to ONNX Runtime as CUDA provider
/// options. They have no effect on a session that runs on the CPU.
/// </summary>
public sealed class CudaOptions
{
    /// <summary><c>cudnn_conv_algo_search</c>.</summary>
    public ConvAlgorithmSearch ConvAlgorithmSearch { get; set; } = ConvAlgorithmSearch.Heuristic;

    /// <summary>Upper bound of ONNX Runtime's GPU memory arena per session, in MiB (<c>gpu_mem_limit</c>). 0: no bound.</summary>
    [Range(0, 16L * 1024 * 1024)]
    public long MemoryLimitMiB { get; set; }

    /// <summary>Let cuDNN use as much workspace as its fastest algorithm wants (<c>cudnn_conv_use_max_workspace</c>).</summary>
    public bool ConvUseMaxWorkspace { get; set; } = true;

    /// <summary>
    /// Run 1-D convolutions as [N, C, 1, D] rather than [N, C, D, 1] (<c>cudnn_conv1d_pad_to_nc1d</c>); ECG2AF is
    /// all 1-D convolutions over 5000 samples.
    /// </summary>
    public bool Conv1dPadToNc1d { get; set; } = true;

    /// <summary>
    /// Bind inputs and outputs to page-locked (pinned) host buffers that ONNX Runtime owns, one set per allowed batch
    /// size, so the host-to-device copy is a DMA of a buffer that never moves.
    /// </summary>
    public bool IoBinding { get; set; } = true;

    /// <summary>The ONNX Runtime provider options these settings stand for.</summary>
    public Dictionary<string, string> ProviderOptions(int deviceId)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = ConvAlgorithmSearch switch
            {
                ConvAlgorithmSearch.Exhaustive => "EXHAUSTIVE",
                ConvAlgorithmSearch.Default => "DEFAULT",
                _ => "HEURISTIC",
            },
            ["cudnn_conv_use_max_workspace"] = ConvUseMaxWorkspace ? "1" : "0",
            ["cudnn_conv1d_pad_to_nc1d"] = Conv1dPadToNc1d ? "1" : "0",
        };
        if (MemoryLimitMiB > 0)
        {
            options["gpu_mem_limit"] = (MemoryLimitMiB * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return options;
    }

    public CudaOptions Clone() => (CudaOptions)MemberwiseClone();
}
