using PureHDF;
using PureHDF.Filters;
using PureHDF.VOL.Native;
using ZstdSharp;

namespace Ecg2Af.Ecg.Tests.Fixtures;

/// <summary>
/// Writes the two ml4h layouts from real leads (mV), as ml4h's tensorizers do: no real .hd5 exists in ../shared.
/// </summary>
internal static class Ml4hHdf5Writer
{
    /// <summary>UK Biobank layout: <c>ukb_ecg_rest/strip_&lt;lead&gt;/instance_&lt;k&gt;</c>, float64 µV, gzip (deflate), attribute <c>date</c>.</summary>
    public static byte[] WriteUkb(IReadOnlyDictionary<string, float[]> leadsMv, int instance = 0)
    {
        var deflate = new H5DatasetCreation(Filters: [new H5Filter(Id: DeflateFilter.Id, Options: new() { [DeflateFilter.COMPRESSION_LEVEL] = 6 })]);
        var root = new H5Group();
        foreach (var (name, samples) in leadsMv)
        {
            var microvolts = Array.ConvertAll(samples, v => v * 1000.0);
            root[$"strip_{name}"] = new H5Group
            {
                [$"instance_{instance}"] = new H5Dataset(microvolts, chunks: [(uint)microvolts.Length], datasetCreation: deflate)
                {
                    Attributes = new() { ["date"] = 1_262_304_000.0 },
                },
            };
        }

        root["ecg_rest_text"] = new H5Group { [$"instance_{instance}"] = new H5Dataset("Sinus rhythm") };
        return Write(new H5File { ["ukb_ecg_rest"] = root });
    }

    /// <summary>
    /// MGB layout: <c>partners_ecg_rest/&lt;ISO datetime&gt;/&lt;lead&gt;</c>, each lead a scalar opaque dataset holding one
    /// zstd frame (level 19) of little-endian int16 µV, with ml4h's attributes. One group per acquisition.
    /// </summary>
    public static byte[] WriteMgb(IReadOnlyDictionary<string, IReadOnlyDictionary<string, float[]>> acquisitions, bool withSampleBase = true)
    {
        var root = new H5Group();
        foreach (var (when, leadsMv) in acquisitions)
        {
            var group = new H5Group();
            var length = 0;
            foreach (var (name, samples) in leadsMv)
            {
                var bytes = new byte[samples.Length * 2];
                for (var i = 0; i < samples.Length; i++)
                {
                    BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), checked((short)Math.Round(samples[i] * 1000)));
                }

                group[name] = Opaque(bytes, "int16", samples.Length);
                length = samples.Length;
            }

            if (withSampleBase)
            {
                group["waveform_samplebase"] = Opaque(System.Text.Encoding.UTF8.GetBytes(length == 2500 ? "250" : "500"), "str", null);
            }

            root[when] = group;
        }

        return Write(new H5File { ["partners_ecg_rest"] = root });
    }

    /// <summary>One zstd-compressed opaque scalar with the attributes ml4h's <c>tensor_writer_mgb</c> sets.</summary>
    public static H5Dataset Opaque(byte[] raw, string dtype, int? length)
    {
        using var zstd = new Compressor(19);
        var frame = zstd.Wrap(raw).ToArray();
        var attributes = new Dictionary<string, object>
        {
            ["dtype"] = dtype,
            ["method"] = "zstd",
            ["compression_level"] = 19L,
            ["uncompressed_length"] = (long)raw.Length,
            ["compressed_length"] = (long)frame.Length,
        };
        if (length is { } n)
        {
            attributes["len"] = (long)n;
        }

        return new H5Dataset(frame, fileDims: [], opaqueInfo: new H5OpaqueInfo((uint)frame.Length, "")) { Attributes = attributes };
    }

    public static byte[] Write(H5File file)
    {
        using var stream = new MemoryStream();
        file.Write(stream);
        return stream.ToArray();
    }
}
