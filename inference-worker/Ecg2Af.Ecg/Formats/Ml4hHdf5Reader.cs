using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using PureHDF;
using ZstdSharp;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// ml4h / ECG2AF HDF5 files, in three layouts (ecg-formats.md §8, ecg2af-model.md §6):
/// MGB <c>partners_ecg_rest/&lt;ISO datetime&gt;/&lt;lead&gt;</c> (scalar opaque datasets, each one zstd frame of
/// little-endian int16 µV), UK Biobank <c>ukb_ecg_rest/strip_&lt;lead&gt;/instance_&lt;k&gt;</c> (float µV, gzip), and a
/// bare <c>ecg</c> array ([5000,12], [1,5000,12] or [12,5000]).
/// </summary>
internal static class Ml4hHdf5Reader
{
    public const string MgbFormatId = "ml4h-hdf5-mgb";
    public const string UkbFormatId = "ml4h-hdf5-ukb";
    public const string ArrayFormatId = "hdf5-array";

    private const string MgbRoot = "partners_ecg_rest";
    private const string UkbRoot = "ukb_ecg_rest";

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The HDF5 signature sits at byte 0, or after a user block of 512, 1024, 2048 … bytes.</summary>
    public static bool CanRead(ReadOnlySpan<byte> content)
    {
        for (var at = 0; at + Signature.Length <= content.Length && at <= 1 << 16; at = at == 0 ? 512 : at * 2)
        {
            if (content.Slice(at, Signature.Length).SequenceEqual(Signature))
            {
                return true;
            }
        }

        return false;
    }

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        using var h5 = H5File.Open(Streams.Open(file.Content), leaveOpen: false);
        var name = Path.GetFileNameWithoutExtension(file.FileName);
        if (h5.LinkExists(MgbRoot))
        {
            return ReadMgb(h5.Group(MgbRoot), name, options);
        }

        if (h5.LinkExists(UkbRoot))
        {
            return ReadUkb(h5.Group(UkbRoot), name, options);
        }

        if (h5.LinkExists("ecg") && h5.Get("ecg") is IH5Dataset array)
        {
            return ReadArray(array, name, options);
        }

        var children = string.Join(", ", h5.Children().Select(c => c.Name).Take(10));
        throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
            $"The HDF5 file has no ml4h ECG data (expected '{MgbRoot}', '{UkbRoot}' or an 'ecg' array; found: {SafeXml.Clip(children)}).");
    }

    private static EcgRecording ReadMgb(IH5Group root, string? name, EcgReadOptions options)
    {
        var acquisitions = root.Children().OfType<IH5Group>().Select(g => g.Name).ToList();
        if (acquisitions.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, $"The HDF5 group '{MgbRoot}' holds no acquisition.");
        }

        string chosen;
        if (options.Acquisition is { } wanted)
        {
            chosen = acquisitions.FirstOrDefault(a => a == wanted)
                ?? throw new EcgFormatException(EcgErrorKind.Unusable,
                    $"The HDF5 file has no acquisition '{SafeXml.Clip(wanted)}'; it has: {string.Join(", ", acquisitions.Take(20))}.");
        }
        else
        {
            // ml4h sorts the datetime keys; the newest is the default.
            chosen = acquisitions.OrderBy(a => DateTime.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : DateTime.MinValue)
                .ThenBy(a => a, StringComparer.Ordinal).Last();
        }

        var group = root.Group(chosen);
        var builder = new RecordingBuilder(MgbFormatId, 0);
        if (acquisitions.Count > 1)
        {
            builder.Warnings.Add($"The file holds {acquisitions.Count} ECGs; acquisition {chosen} was read.");
        }

        long budget = options.MaxDecompressedBytes;
        var length = 0L;
        using var zstd = new Decompressor(); // one context for every lead: creating one costs more than a lead's frame
        // The group also holds text and measurement datasets (diagnosis_md, acquisitiondate ...): only leads are read.
        foreach (var dataset in group.Children().OfType<IH5Dataset>().Where(d => Leads.Normalize(d.Name) is not null))
        {
            if (builder.Resolve(dataset.Name) is not { } lead)
            {
                continue;
            }

            var dtype = StringAttribute(dataset, "dtype") ?? "int16";
            if (dtype != "int16")
            {
                throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"ml4h lead {dataset.Name} has dtype '{SafeXml.Clip(dtype)}'; int16 was expected.");
            }

            var bytes = Decompress(dataset, zstd, options, ref budget);
            var values = new float[bytes.Length / 2];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * i)) / 1000f; // µV -> mV
            }

            length = Math.Max(length, values.Length);
            builder.Add(lead, dataset.Name, values, 1e-3);
        }

        builder.SampleRateHz = MgbSampleRate(group, length, builder, zstd, options, ref budget);
        return builder.Build(name);
    }

    /// <summary>Reads one opaque (or uint8) dataset holding a zstd frame and decompresses it within the budget.</summary>
    private static byte[] Decompress(IH5Dataset dataset, Decompressor zstd, EcgReadOptions options, ref long budget)
    {
        var type = dataset.Type;
        var stored = type.Class == H5DataTypeClass.Opaque
            ? (long)type.Size
            : type.Class == H5DataTypeClass.FixedPoint && type.Size == 1 ? Elements(dataset) : -1;
        if (stored < 0)
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"ml4h dataset '{dataset.Name}' is not opaque zstd bytes ({type.Class}).");
        }

        if (stored > options.MaxUploadBytes)
        {
            throw new EcgFormatException(EcgErrorKind.TooLarge, $"ml4h dataset '{dataset.Name}' declares {stored} bytes.");
        }

        var method = StringAttribute(dataset, "method") ?? "zstd";
        if (method != "zstd")
        {
            throw new EcgFormatException(EcgErrorKind.UnsupportedFormat, $"ml4h dataset '{dataset.Name}' is compressed with '{SafeXml.Clip(method)}'; zstd was expected.");
        }

        var compressed = dataset.Read<byte[]>();
        // The size to expect: the 'len' attribute (int16 samples), else the frame header, within what is left of the budget.
        var expected = NumberAttribute(dataset, "len") is { } len ? (long)len * 2
            : NumberAttribute(dataset, "uncompressed_length") is { } u ? (long)u
            : (long)Math.Min(Decompressor.GetDecompressedSize(compressed), long.MaxValue);
        if (expected <= 0 || expected > budget)
        {
            throw new EcgFormatException(expected <= 0 ? EcgErrorKind.Malformed : EcgErrorKind.TooLarge,
                $"ml4h dataset '{dataset.Name}' declares an impossible or too large uncompressed size ({expected} bytes).");
        }

        budget -= expected;
        var output = new byte[expected];
        if (!zstd.TryUnwrap(compressed, output, out var written) || written != expected)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed,
                $"ml4h dataset '{dataset.Name}': the zstd frame does not decompress to the declared {expected} bytes.");
        }

        return output;
    }

    private static double MgbSampleRate(IH5Group group, long samples, RecordingBuilder builder, Decompressor zstd, EcgReadOptions options, ref long budget)
    {
        foreach (var key in (string[])["waveform_samplebase", "ecgsamplebase"])
        {
            if (group.LinkExists(key) && group.Get(key) is IH5Dataset ds)
            {
                var text = Encoding.UTF8.GetString(Decompress(ds, zstd, options, ref budget));
                if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var fs) && fs > 0)
                {
                    return fs;
                }
            }
        }

        // ml4h itself assumes 10 s: 5000 samples at 500 Hz, 2500 at 250 Hz.
        var assumed = samples > 0 ? samples / 10.0 : 500;
        builder.Warnings.Add(string.Create(CultureInfo.InvariantCulture, $"The ml4h file states no sample rate; {samples} samples were taken as 10 s ({assumed:0.###} Hz)."));
        builder.Flags.Add(string.Create(CultureInfo.InvariantCulture, $"sample_rate_assumed:{assumed:0.###}Hz"));
        return assumed;
    }

    private static EcgRecording ReadUkb(IH5Group root, string? name, EcgReadOptions options)
    {
        var strips = root.Children().OfType<IH5Group>().Where(g => g.Name.StartsWith("strip_", StringComparison.Ordinal)).ToList();
        var instances = strips.SelectMany(s => s.Children().OfType<IH5Dataset>().Select(d => d.Name)).Distinct().ToList();
        if (instances.Count == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, $"The HDF5 group '{UkbRoot}' holds no strip_<lead>/instance_<k> datasets.");
        }

        string instance;
        if (options.Acquisition is { } wanted)
        {
            instance = wanted.StartsWith("instance_", StringComparison.Ordinal) ? wanted : "instance_" + wanted;
            if (!instances.Contains(instance))
            {
                throw new EcgFormatException(EcgErrorKind.Unusable,
                    $"The HDF5 file has no '{SafeXml.Clip(instance)}'; it has: {string.Join(", ", instances.Take(20))}.");
            }
        }
        else
        {
            instance = instances.OrderBy(InstanceNumber).ThenBy(i => i, StringComparer.Ordinal).First();
        }

        var builder = new RecordingBuilder(UkbFormatId, 500);
        long total = 0;
        foreach (var strip in strips)
        {
            if (!strip.LinkExists(instance) || strip.Get(instance) is not IH5Dataset dataset || builder.Resolve(strip.Name) is not { } lead)
            {
                continue;
            }

            total += Elements(dataset);
            Limits.CheckSamples(total, options, "The HDF5 file");
            var scale = Units.ToMillivolts(StringAttribute(dataset, "units") ?? "uV")
                ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"ml4h dataset '{strip.Name}' has unknown units.");
            var values = Numbers(dataset);
            Units.Scale(values, scale);

            builder.Add(lead, strip.Name, values);
        }

        // UK Biobank resting ECGs are 10 s at 500 Hz (the rate the builder started with).
        return builder.Build(name);
    }

    private static EcgRecording ReadArray(IH5Dataset dataset, string? name, EcgReadOptions options)
    {
        var dims = dataset.Space.Dimensions.Where(d => d != 1).ToArray();
        var names = options.LeadOrder ?? Leads.Standard12;
        if (dims.Length != 2 || (dims[0] != (ulong)names.Count && dims[1] != (ulong)names.Count))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, string.Create(CultureInfo.InvariantCulture,
                $"The HDF5 'ecg' array has shape ({string.Join(", ", dataset.Space.Dimensions)}); [samples, {names.Count}] or [{names.Count}, samples] was expected."));
        }

        Limits.CheckSamples(Elements(dataset), options, "The HDF5 'ecg' array");
        var values = Numbers(dataset);
        var leadsFirst = dims[0] == (ulong)names.Count && dims[1] != (ulong)names.Count;
        var samples = (int)(leadsFirst ? dims[1] : dims[0]);
        var scale = Units.RequestUnits(options.Units);
        var builder = new RecordingBuilder(ArrayFormatId, 0);
        builder.SampleRateHz = SampleRates.Resolve(options.SampleRateHz, samples, builder, "The HDF5 'ecg' array");
        for (var c = 0; c < names.Count; c++)
        {
            var lead = new float[samples];
            for (var t = 0; t < samples; t++)
            {
                lead[t] = (float)(values[leadsFirst ? (c * samples) + t : (t * names.Count) + c] * scale);
            }

            builder.TryAdd(names[c], lead);
        }

        return builder.Build(name);
    }

    private static int InstanceNumber(string instance) =>
        instance.StartsWith("instance_", StringComparison.Ordinal)
        && int.TryParse(instance.AsSpan("instance_".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            ? k
            : int.MaxValue;

    private static long Elements(IH5Dataset dataset)
    {
        long count = 1;
        foreach (var d in dataset.Space.Dimensions)
        {
            count = d > (ulong)int.MaxValue ? long.MaxValue : count * (long)d;
            if (count > int.MaxValue || count < 0)
            {
                return long.MaxValue;
            }
        }

        return count;
    }

    /// <summary>A numeric dataset of any common element type, as float.</summary>
    private static float[] Numbers(IH5Dataset dataset)
    {
        var type = dataset.Type;
        return (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 8) => Array.ConvertAll(dataset.Read<double[]>(), v => (float)v),
            (H5DataTypeClass.FloatingPoint, 4) => dataset.Read<float[]>(),
            (H5DataTypeClass.FixedPoint, 2) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<short[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 4) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<int[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 8) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<long[]>(), v => (float)v),
            _ => throw new EcgFormatException(EcgErrorKind.UnsupportedFormat,
                $"HDF5 dataset '{dataset.Name}' holds {type.Class} values of {type.Size} bytes; float or signed integer values were expected."),
        };
    }

    private static string? StringAttribute(IH5Object item, string name)
    {
        if (!item.AttributeExists(name))
        {
            return null;
        }

        var attribute = item.Attribute(name);
        return attribute.Type.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength ? attribute.Read<string>() : null;
    }

    private static double? NumberAttribute(IH5Object item, string name)
    {
        if (!item.AttributeExists(name))
        {
            return null;
        }

        var attribute = item.Attribute(name);
        var type = attribute.Type;
        return (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FixedPoint, 8) => type.FixedPoint.IsSigned ? attribute.Read<long>() : attribute.Read<ulong>(),
            (H5DataTypeClass.FixedPoint, 4) => type.FixedPoint.IsSigned ? attribute.Read<int>() : attribute.Read<uint>(),
            (H5DataTypeClass.FixedPoint, 2) => type.FixedPoint.IsSigned ? attribute.Read<short>() : attribute.Read<ushort>(),
            (H5DataTypeClass.FloatingPoint, 8) => attribute.Read<double>(),
            (H5DataTypeClass.FloatingPoint, 4) => attribute.Read<float>(),
            _ => null,
        };
    }
}
