using System.Text.Json;
using Ecg2Af.Client;
using Ecg2Af.Client.Rest;

namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>One ECG record as a user would upload it: one file, or a WFDB header with its signal file.</summary>
public sealed record EcgRecordFiles(string Label, IReadOnlyList<(string FileName, byte[] Bytes)> Files);

/// <summary>
/// The request bodies the scenarios send: real ECG files in several formats (from ../shared/ecg-samples, read once),
/// and one real ECG's model input as an Open Inference Protocol request in JSON and in the binary tensor extension
/// (and as the tensor itself, which the gRPC step sends).
/// The tensor comes from the service itself (POST /api/v1/ecg:preprocess through the target), so the tool stays
/// black-box.
/// </summary>
public sealed class Payloads
{
    /// <summary>The upload mix: sample files the worker reads (relative to ecg-samples), several formats.</summary>
    public static readonly string[][] UploadMix =
    [
        ["muse-xml/muse-sinus.xml"],
        ["hl7-aecg/Example_aECG.xml"],
        ["dicom/Example.dcm"],
        ["csv/ECG_12L.csv"],
        ["wfdb/muse-af.hea", "wfdb/muse-af.dat"],
        ["wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat"],
        ["muse-xml/braveheart_example1.xml"],
        ["wfdb/00001_lr.hea", "wfdb/00001_lr.dat"],
    ];

    public const string TensorSource = "muse-xml/muse-sinus.xml";

    private Payloads(IReadOnlyList<EcgRecordFiles> records) => Records = records;

    public IReadOnlyList<EcgRecordFiles> Records { get; }

    /// <summary>The model the OIP requests name (from the preprocess answer).</summary>
    public string Model { get; private set; } = "ecg2af";

    public byte[] OipJson { get; private set; } = [];

    public byte[] OipBinary { get; private set; } = [];

    public int OipBinaryHeaderLength { get; private set; }

    public bool HasTensor => OipJson.Length > 0;

    /// <summary>The model input's name (for requests built per call, e.g. gRPC ModelInfer).</summary>
    public string InputName { get; private set; } = "";

    /// <summary>The model input's shape, [1, samples, leads].</summary>
    public IReadOnlyList<long> TensorShape { get; private set; } = [];

    /// <summary>The model input's values, row-major.</summary>
    public ReadOnlyMemory<float> TensorData { get; private set; }

    /// <summary>Reads the upload mix (or the given records) from <paramref name="samplesFolder"/>.</summary>
    public static Payloads Load(string samplesFolder, IEnumerable<string[]>? records = null)
    {
        var chosen = (records ?? UploadMix).Select(paths => new EcgRecordFiles(
            string.Join("+", paths.Select(Path.GetFileName)),
            paths.Select(p =>
            {
                var full = Path.Combine(samplesFolder, p);
                return File.Exists(full)
                    ? (Path.GetFileName(p), File.ReadAllBytes(full))
                    : throw new FileNotFoundException($"ECG sample {full} is missing (the tool needs ../shared/ecg-samples).", full);
            }).ToList())).ToList();
        return new Payloads(chosen);
    }

    /// <summary>Asks the target for the model input of <see cref="TensorSource"/> (through the client library; the key, if any, is on <paramref name="client"/>) and builds the OIP bodies from it.</summary>
    public async Task LoadTensorAsync(HttpClient client, Uri target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var record = Records.First(r => r.Label == Path.GetFileName(TensorSource));
        using var ecg2af = new Ecg2AfClient(client, new Ecg2AfClientOptions { BaseAddress = target, MaxRetries = 2 });
        JsonDocument json;
        try
        {
            json = await ecg2af.PreprocessAsync(Requests.Files(record), cancellationToken: cancellationToken);
        }
        catch (Ecg2AfApiException e)
        {
            throw new InvalidOperationException($"POST /api/v1/ecg:preprocess: {e.Message}", e);
        }

        using (json)
        {
            var root = json.RootElement;
            var inputName = root.GetProperty("input_name").GetString()!;
            var rows = root.GetProperty("data");
            var samples = rows.GetArrayLength();
            var leads = rows[0].GetArrayLength();
            var data = new float[samples * leads];
            var i = 0;
            foreach (var row in rows.EnumerateArray())
            {
                foreach (var value in row.EnumerateArray())
                {
                    data[i++] = value.GetSingle();
                }
            }

            SetTensor(root.GetProperty("model").GetString()!, inputName, samples, leads, data);
        }
    }

    /// <summary>Builds the OIP JSON and binary request bodies for one [1, samples, leads] FP32 input.</summary>
    public void SetTensor(string model, string inputName, int samples, int leads, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Model = model;
        InputName = inputName;
        TensorShape = [1, samples, leads];
        TensorData = data;
        OipJson = Ecg2AfRequests.JsonInferBody(inputName, [1, samples, leads], data);
        (OipBinary, OipBinaryHeaderLength) = Ecg2AfRequests.BinaryInferBody(inputName, [1, samples, leads], data, []);
    }
}
