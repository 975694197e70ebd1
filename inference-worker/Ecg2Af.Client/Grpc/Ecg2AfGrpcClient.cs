using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ecg2Af.Client.Rest;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using Polly;

namespace Ecg2Af.Client;

/// <summary>
/// A typed client of the Open Inference Protocol v2 over gRPC (<c>inference.GRPCInferenceService</c>, as KServe and
/// Triton speak it): ModelInfer with the tensor as raw little-endian FP32 bytes (<c>raw_input_contents</c>) and the
/// outputs read from <c>raw_output_contents</c>, ServerLive, ServerReady, ModelReady and ModelMetadata. Every call
/// sends the API key as metadata <c>authorization: Bearer &lt;key&gt;</c>, carries the time left of
/// <see cref="Ecg2AfClientOptions.Deadline"/> as its gRPC deadline, is made again after the service's retry hint when
/// refused with UNAVAILABLE or RESOURCE_EXHAUSTED (the same retry as <see cref="Ecg2AfClient"/>), and throws
/// <see cref="Ecg2AfGrpcException"/> for any other failure.
/// </summary>
/// <remarks>
/// Thread-safe: one client holds one channel (HTTP/2, many concurrent calls as streams of one connection) and should
/// be reused for every call. <see cref="Ecg2AfClientOptions.BaseAddress"/> is the gRPC address, e.g. the gateway's
/// <c>http://127.0.0.1:8081/</c> (cleartext HTTP/2 with prior knowledge) or an <c>https://</c> address.
/// </remarks>
public sealed class Ecg2AfGrpcClient : IDisposable
{
    private static readonly JsonFormatter HeaderFormatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true).WithFormatDefaultValues(false));
    private readonly GrpcChannel channel;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient stub;
    private readonly ResiliencePipeline retry;

    /// <summary>Creates a client and its channel.</summary>
    /// <param name="options">The gRPC address, key, deadline and retries.</param>
    /// <param name="handler">
    /// The HTTP handler under the channel (e.g. a <see cref="SocketsHttpHandler"/> with settings of your own); null for
    /// one that opens more HTTP/2 connections when a connection's stream limit is reached. The client disposes it.
    /// </param>
    public Ecg2AfGrpcClient(Ecg2AfClientOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.BaseAddress);
        Options = options;
        channel = GrpcChannel.ForAddress(options.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = handler ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        stub = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        retry = GrpcRetry.Build(options);
    }

    /// <summary>The options the client was made with.</summary>
    public Ecg2AfClientOptions Options { get; }

    /// <summary><c>ServerLive</c>: whether the service is up. False when it is not reachable or answers UNAVAILABLE (no retry).</summary>
    /// <param name="cancellationToken">Stops the call.</param>
    public Task<bool> IsLiveAsync(CancellationToken cancellationToken = default) =>
        ProbeAsync("ServerLive", o => stub.ServerLiveAsync(new ServerLiveRequest(), o), r => r.Live, cancellationToken);

    /// <summary><c>ServerReady</c>: whether the service takes inference calls now. False when it answers UNAVAILABLE or is not reachable (no retry).</summary>
    /// <param name="cancellationToken">Stops the call.</param>
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) =>
        ProbeAsync("ServerReady", o => stub.ServerReadyAsync(new ServerReadyRequest(), o), r => r.Ready, cancellationToken);

    /// <summary><c>ModelReady</c>: whether a model (version) is loaded and serving.</summary>
    /// <param name="model">The model name (e.g. <c>ecg2af</c>).</param>
    /// <param name="version">The version; null for the newest ready one.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    public async Task<bool> IsModelReadyAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        var request = new ModelReadyRequest { Name = model, Version = version ?? "" };
        var response = await CallAsync("ModelReady", o => stub.ModelReadyAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Ready;
    }

    /// <summary><c>ModelMetadata</c>: a model's inputs, outputs, versions and platform.</summary>
    /// <param name="model">The model name.</param>
    /// <param name="version">The version; null for the newest ready one.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    /// <exception cref="Ecg2AfGrpcException">NOT_FOUND for an unknown model or version, or any other failure.</exception>
    public async Task<OipModelMetadata> GetModelMetadataAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        var request = new ModelMetadataRequest { Name = model, Version = version ?? "" };
        var response = await CallAsync("ModelMetadata", o => stub.ModelMetadataAsync(request, o), cancellationToken).ConfigureAwait(false);
        static OipTensorMetadata Tensor(ModelMetadataResponse.Types.TensorMetadata t) => new(t.Name, t.Datatype, [.. t.Shape]);
        return new OipModelMetadata(response.Name, [.. response.Versions], response.Platform, [.. response.Inputs.Select(Tensor)], [.. response.Outputs.Select(Tensor)]);
    }

    /// <summary>
    /// <c>ModelInfer</c> for one FP32 input tensor of any batch size (<c>shape[0]</c>), sent as raw little-endian bytes
    /// in <c>raw_input_contents</c>; every output of the model comes back, read from <c>raw_output_contents</c> (or from
    /// typed <c>contents</c>, should a service send those).
    /// </summary>
    /// <param name="model">The model name (e.g. <c>ecg2af</c>).</param>
    /// <param name="input">The input tensor's name (from <see cref="GetModelMetadataAsync"/>).</param>
    /// <param name="shape">The tensor's shape, e.g. <c>[4, 5000, 12]</c> for four ECGs.</param>
    /// <param name="data">The tensor's values, row-major.</param>
    /// <param name="version">The model version; null for the newest ready one.</param>
    /// <param name="parameters">
    /// Request parameters, e.g. <c>priority</c> (<c>stat</c>, <c>routine</c>, <c>batch</c>) or <c>timeout</c>
    /// (microseconds): a value that reads as a whole number goes as <c>int64_param</c>, <c>true</c>/<c>false</c> as
    /// <c>bool_param</c>, anything else as <c>string_param</c>. Null for none.
    /// </param>
    /// <param name="cancellationToken">Stops the call.</param>
    /// <returns>
    /// The outputs; <see cref="InferResult.Header"/> is the answer as protobuf JSON (proto field names) without the raw
    /// tensor bytes.
    /// </returns>
    /// <exception cref="Ecg2AfGrpcException">
    /// INVALID_ARGUMENT (bad shape, datatype or values), NOT_FOUND (model or version), UNAUTHENTICATED (no or wrong
    /// key), DEADLINE_EXCEEDED, or UNAVAILABLE / RESOURCE_EXHAUSTED once the retries are spent.
    /// </exception>
    public async Task<InferResult> InferAsync(
        string model, string input, IReadOnlyList<long> shape, ReadOnlyMemory<float> data, string? version = null,
        IReadOnlyDictionary<string, string>? parameters = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentNullException.ThrowIfNull(shape);
        var request = InferRequest(model, input, shape, data.Span, version, parameters);
        var response = await CallAsync("ModelInfer", o => stub.ModelInferAsync(request, o), cancellationToken).ConfigureAwait(false);
        return ReadResult(response);
    }

    /// <inheritdoc />
    public void Dispose() => channel.Dispose();

    internal static ModelInferRequest InferRequest(
        string model, string input, IReadOnlyList<long> shape, ReadOnlySpan<float> data, string? version, IReadOnlyDictionary<string, string>? parameters)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("raw_input_contents is little-endian; this machine is not.");
        }

        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input, Datatype = "FP32" };
        tensor.Shape.AddRange(shape);
        var request = new ModelInferRequest { ModelName = model, ModelVersion = version ?? "" };
        request.Inputs.Add(tensor);
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(data)));
        foreach (var (key, value) in parameters ?? new Dictionary<string, string>())
        {
            request.Parameters[key] = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? new InferParameter { Int64Param = number }
                : bool.TryParse(value, out var flag) ? new InferParameter { BoolParam = flag }
                : new InferParameter { StringParam = value };
        }

        return request;
    }

    internal static InferResult ReadResult(ModelInferResponse response)
    {
        var raw = response.RawOutputContents.Count > 0;
        if (raw && response.RawOutputContents.Count != response.Outputs.Count)
        {
            throw new FormatException($"The answer has {response.Outputs.Count} outputs but {response.RawOutputContents.Count} raw_output_contents.");
        }

        var outputs = new List<InferOutput>(response.Outputs.Count);
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            if (output.Datatype != "FP32")
            {
                throw new FormatException($"Output '{output.Name}' is {output.Datatype}; this client reads FP32 outputs.");
            }

            float[] values;
            if (raw)
            {
                var bytes = response.RawOutputContents[i].Span;
                if (bytes.Length % sizeof(float) != 0)
                {
                    throw new FormatException($"Output '{output.Name}' has {bytes.Length} raw bytes, not a whole number of FP32 values.");
                }

                values = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            }
            else
            {
                values = output.Contents?.Fp32Contents.ToArray() ?? [];
            }

            var count = output.Shape.Aggregate(1L, (a, d) => a * d);
            if (count != values.Length)
            {
                throw new FormatException($"Output '{output.Name}' has shape [{string.Join(", ", output.Shape)}] but {values.Length} values.");
            }

            outputs.Add(new InferOutput(output.Name, [.. output.Shape], values));
        }

        var header = response.Clone();
        header.RawOutputContents.Clear();
        using var json = JsonDocument.Parse(HeaderFormatter.Format(header));
        return new InferResult(response.ModelName, response.ModelVersion, outputs, json.RootElement.Clone());
    }

    private async Task<bool> ProbeAsync<TResponse>(
        string method, Func<CallOptions, AsyncUnaryCall<TResponse>> call, Func<TResponse, bool> read, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken, out var started);
        try
        {
            return read(await call(CallOptionsFor(started, deadline.Token)).ResponseAsync.ConfigureAwait(false));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            return false;
        }
        catch (RpcException e)
        {
            throw Failure(e, method, deadline, cancellationToken);
        }
    }

    /// <summary>One unary call with the key, the deadline and the retries; failures become <see cref="Ecg2AfGrpcException"/>.</summary>
    private async Task<TResponse> CallAsync<TResponse>(string method, Func<CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken, out var started);
        try
        {
            return await retry.ExecuteAsync(
                async token => await call(CallOptionsFor(started, token)).ResponseAsync.ConfigureAwait(false),
                deadline.Token).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Failure(e, method, deadline, cancellationToken);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The deadline passed while waiting to retry.
            throw new Ecg2AfGrpcException(new Status(StatusCode.DeadlineExceeded, $"The client's deadline of {Options.Deadline} passed."), [], method);
        }
    }

    private Exception Failure(RpcException e, string method, CancellationTokenSource deadline, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new OperationCanceledException($"The gRPC call {method} was cancelled.", e, cancellationToken);
        }

        if (e.StatusCode == StatusCode.Cancelled && deadline.IsCancellationRequested)
        {
            return new Ecg2AfGrpcException(new Status(StatusCode.DeadlineExceeded, $"The client's deadline of {Options.Deadline} passed."), e.Trailers, method);
        }

        return e as Ecg2AfGrpcException ?? new Ecg2AfGrpcException(e.Status, e.Trailers, method);
    }

    private CallOptions CallOptionsFor(long started, CancellationToken token)
    {
        var headers = new Metadata();
        if (Options.ApiKey is { } key)
        {
            headers.Add("authorization", "Bearer " + key);
        }

        DateTime? deadline = Options.Deadline is { } total ? DateTime.UtcNow + (total - Stopwatch.GetElapsedTime(started)) : null;
        return new CallOptions(headers, deadline, token);
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken, out long started) =>
        CallDeadline.Start(Options.Deadline, cancellationToken, out started);
}
