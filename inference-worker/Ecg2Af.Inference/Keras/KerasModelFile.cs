using System.IO.Compression;
using System.Text.Json;
using PureHDF;
using PureHDF.VOL.Native;

namespace Ecg2Af.Inference.Keras;

/// <summary>The two Keras whole-model formats.</summary>
public enum KerasFormat
{
    /// <summary>HDF5 written by <c>model.save("x.h5")</c> (Keras 2, or Keras 3's legacy writer).</summary>
    LegacyH5,

    /// <summary>The Keras 3 zip: <c>metadata.json</c>, <c>config.json</c>, <c>model.weights.h5</c>.</summary>
    KerasV3,
}

/// <summary>An opened Keras model file: its architecture JSON, version, and weight store.</summary>
internal sealed class KerasModelFile : IDisposable
{
    private static readonly byte[] Hdf5Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];
    private static readonly byte[] LfsPointerPrefix = "version https://git-lfs"u8.ToArray();

    private readonly NativeFile _hdf5;

    private KerasModelFile(KerasFormat format, JsonDocument config, string? kerasVersion, NativeFile hdf5, IKerasWeights weights)
    {
        Format = format;
        Config = config;
        KerasVersion = kerasVersion;
        _hdf5 = hdf5;
        Weights = weights;
    }

    public KerasFormat Format { get; }

    /// <summary>The model's <c>{"class_name": …, "config": …}</c> object.</summary>
    public JsonDocument Config { get; }

    public string? KerasVersion { get; }

    public IKerasWeights Weights { get; }

    /// <summary>Opens a <c>.h5</c> or <c>.keras</c> file, recognised by content (HDF5 signature or zip header), not by extension.</summary>
    public static KerasModelFile Open(string path)
    {
        var head = new byte[LfsPointerPrefix.Length];
        using (var probe = File.OpenRead(path))
        {
            probe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        if (head.AsSpan().SequenceEqual(LfsPointerPrefix))
        {
            throw new KerasImportException(
                $"{Path.GetFileName(path)} is a Git LFS pointer, not the model: run `git lfs pull` in the repository that holds it.");
        }

        try
        {
            if (head.AsSpan().StartsWith(Hdf5Signature))
            {
                return OpenLegacyH5(path);
            }

            if (head[0] == (byte)'P' && head[1] == (byte)'K')
            {
                return OpenKerasV3(path);
            }
        }
        catch (Exception e) when (e is not KerasImportException)
        {
            throw new KerasImportException($"{Path.GetFileName(path)} could not be read as a Keras model: {e.Message}", e);
        }

        throw new KerasImportException($"{Path.GetFileName(path)} is neither an HDF5 (.h5) nor a zip (.keras) Keras model file.");
    }

    public void Dispose()
    {
        Config.Dispose();
        _hdf5.Dispose();
    }

    private static KerasModelFile OpenLegacyH5(string path)
    {
        var file = H5File.OpenRead(path);
        try
        {
            if (!file.AttributeExists("model_config"))
            {
                throw new KerasImportException(
                    $"{Path.GetFileName(path)} has no model_config attribute: it holds weights only (save_weights), not a whole model.");
            }

            var config = JsonDocument.Parse(Hdf5.ReadString(file, "model_config"));
            var version = file.AttributeExists("keras_version") ? Hdf5.ReadString(file, "keras_version") : null;
            var weightsRoot = file.LinkExists("model_weights") ? (IH5Group)file.Group("model_weights") : file;
            return new KerasModelFile(KerasFormat.LegacyH5, config, version, file, new LegacyH5Weights(weightsRoot));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static KerasModelFile OpenKerasV3(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var configEntry = zip.GetEntry("config.json") ?? throw new KerasImportException($"{Path.GetFileName(path)} has no config.json.");
        var weightsEntry = zip.GetEntry("model.weights.h5")
            ?? throw new KerasImportException($"{Path.GetFileName(path)} has no model.weights.h5 (npz weights are not supported).");
        JsonDocument config;
        using (var stream = configEntry.Open())
        {
            config = JsonDocument.Parse(stream);
        }

        string? version = null;
        if (zip.GetEntry("metadata.json") is { } metadataEntry)
        {
            using var stream = metadataEntry.Open();
            using var metadata = JsonDocument.Parse(stream);
            version = metadata.RootElement.TryGetProperty("keras_version", out var v) ? v.GetString() : null;
        }

        // PureHDF needs a seekable stream; zip entries are not.
        var buffer = new MemoryStream();
        using (var stream = weightsEntry.Open())
        {
            stream.CopyTo(buffer);
        }

        buffer.Position = 0;
        var file = H5File.Open(buffer, leaveOpen: false);
        return new KerasModelFile(KerasFormat.KerasV3, config, version, file, new KerasV3Weights(file));
    }
}
