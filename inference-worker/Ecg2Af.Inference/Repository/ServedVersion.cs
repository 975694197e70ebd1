using System.Diagnostics;
using Ecg2Af.Inference.Runtime;
using Ecg2Af.Inference.Scoring;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Inference.Repository;

/// <summary>
/// A model version that passed its checks and can take traffic: one ONNX Runtime session per inference loop.
/// Requests hold a <see cref="VersionLease"/> while they use it; once the version is retired (its directory went away
/// or a reload replaced it) it takes no new leases and is disposed when the last lease is released.
/// </summary>
public sealed class ServedVersion : IInferenceTarget, IDisposable
{
    private readonly OnnxModelRunner[] _sessions;
    private readonly object _gate = new();
    private readonly TaskCompletionSource _unloaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leases;
    private bool _retired;
    private bool _disposed;

    private ServedVersion(LoadedModel model, OnnxModelRunner[] sessions)
    {
        Model = model;
        _sessions = sessions;
        OutputSizes = model.Signature.Outputs.Select(o => o.Size).ToArray();
    }

    /// <summary>The version as the scoring pipeline sees it (signature, first session, model.onnx SHA-256).</summary>
    public LoadedModel Model { get; }

    public ModelSignature Signature => Model.Signature;

    public string ModelName => Model.Name;

    public string ModelVersion => Model.Version;

    public string Directory => Model.Directory;

    /// <summary><c>cuda</c> or <c>cpu</c>.</summary>
    public string ExecutionProvider => Model.Runner.ExecutionProvider;

    public int InputLength => Model.Runner.InputLength;

    public IReadOnlyList<int> OutputSizes { get; }

    public int Sessions => _sessions.Length;

    /// <summary>Load, warm-up and check time.</summary>
    public TimeSpan LoadTime { get; private set; }

    /// <summary>Completes once the version is retired and disposed.</summary>
    public Task Unloaded => _unloaded.Task;

    public bool IsRetired
    {
        get
        {
            lock (_gate)
            {
                return _retired;
            }
        }
    }

    /// <summary>
    /// Loads <paramref name="directory"/> with <paramref name="sessions"/> sessions, warms each up and checks the
    /// version: <c>model.json</c> names this model and version, the graph matches the signature, and a synthetic ECG
    /// gives finite outputs of the declared widths on every session. Throws <see cref="ModelLoadException"/> otherwise.
    /// </summary>
    public static ServedVersion Load(string directory, string expectedName, string expectedVersion, RuntimeOptions options, int sessions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sessions, 1);
        var start = Stopwatch.GetTimestamp();
        var model = LoadedModel.Load(directory, options);
        var runners = new List<OnnxModelRunner> { model.Runner };
        try
        {
            if (model.Name != expectedName || model.Version != expectedVersion)
            {
                throw new ModelLoadException(
                    $"model.json names {model.Name} version {model.Version}, but it lives in {expectedName}/{expectedVersion}.");
            }

            for (var i = 1; i < sessions; i++)
            {
                runners.Add(OnnxModelRunner.Load(model.Graph.Bytes, ModelFiles.Onnx, model.Signature, options));
            }

            var served = new ServedVersion(model, [.. runners]);
            served.Check();
            served.LoadTime = Stopwatch.GetElapsedTime(start);
            return served;
        }
        catch
        {
            foreach (var runner in runners)
            {
                runner.Dispose();
            }

            throw;
        }
    }

    public void Run(int loop, Memory<float> input, int batchSize, float[][] outputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _sessions[loop % _sessions.Length].Run(input, batchSize, outputs);
    }

    /// <summary>A lease for one request, or null once the version is retired.</summary>
    public VersionLease? TryAcquire()
    {
        lock (_gate)
        {
            if (_retired)
            {
                return null;
            }

            _leases++;
            return new VersionLease(this);
        }
    }

    /// <summary>Takes no new leases; disposes the sessions once in-flight requests released theirs.</summary>
    public void Retire()
    {
        lock (_gate)
        {
            if (_retired)
            {
                return;
            }

            _retired = true;
            if (_leases > 0)
            {
                return;
            }
        }

        DisposeSessions();
    }

    /// <summary>Retires the version (see <see cref="Retire"/>).</summary>
    public void Dispose() => Retire();

    internal void Release()
    {
        lock (_gate)
        {
            _leases--;
            if (!_retired || _leases > 0)
            {
                return;
            }
        }

        DisposeSessions();
    }

    private void DisposeSessions()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        foreach (var session in _sessions)
        {
            session.Dispose();
        }

        _unloaded.TrySetResult();
    }

    /// <summary>Runs a synthetic ECG-shaped input through every session and checks the outputs.</summary>
    private void Check()
    {
        var input = new float[InputLength];
        var leads = Signature.Input.Leads.Count;
        var rate = Signature.Input.SampleRateHz;
        for (var t = 0; t < Signature.Input.Samples; t++)
        {
            // A 1.2 Hz "beat" with lead-dependent gain: non-trivial activations, same input on every run.
            var value = Math.Sin(2 * Math.PI * 1.2 * t / rate) + (0.3 * Math.Sin(2 * Math.PI * 7 * t / rate));
            for (var c = 0; c < leads; c++)
            {
                input[(t * leads) + c] = (float)(value * (0.5 + (0.1 * c)));
            }
        }

        var outputs = OutputSizes.Select(size => new float[size]).ToArray();
        for (var s = 0; s < _sessions.Length; s++)
        {
            _sessions[s].Run(input, 1, outputs);
            for (var h = 0; h < outputs.Length; h++)
            {
                if (outputs[h].Any(v => !float.IsFinite(v)))
                {
                    throw new ModelLoadException(
                        $"The check input gives non-finite values on output '{Signature.Outputs[h].Name}'; the model cannot serve.");
                }
            }
        }
    }
}

/// <summary>One request's hold on a <see cref="ServedVersion"/>: the version stays loaded until every lease is disposed.</summary>
public sealed class VersionLease : IDisposable
{
    private ServedVersion? _version;

    internal VersionLease(ServedVersion version)
    {
        _version = version;
        Version = version;
    }

    public ServedVersion Version { get; }

    public void Dispose() => Interlocked.Exchange(ref _version, null)?.Release();
}
