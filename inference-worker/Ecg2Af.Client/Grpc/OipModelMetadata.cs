namespace Ecg2Af.Client;

/// <summary>One tensor of a model's Open Inference Protocol metadata.</summary>
/// <param name="Name">The tensor's name (the input to name in an inference request).</param>
/// <param name="Datatype">Its datatype, e.g. <c>FP32</c>.</param>
/// <param name="Shape">Its shape; <c>-1</c> marks a dimension of any size (the batch).</param>
public sealed record OipTensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

/// <summary>A model's Open Inference Protocol metadata (gRPC <c>ModelMetadata</c>).</summary>
/// <param name="Name">The model's name.</param>
/// <param name="Versions">Its versions the service knows.</param>
/// <param name="Platform">The platform that runs it (e.g. <c>onnxruntime_onnx</c>).</param>
/// <param name="Inputs">Its input tensors.</param>
/// <param name="Outputs">Its output tensors.</param>
public sealed record OipModelMetadata(
    string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<OipTensorMetadata> Inputs, IReadOnlyList<OipTensorMetadata> Outputs);
