using PureHDF;

namespace Ecg2Af.Inference.Keras;

/// <summary>One stored variable: its name when the file records one (<c>kernel</c>, <c>moving_mean</c>…), shape and values.</summary>
internal sealed record WeightTensor(string? Name, long[] Shape, float[] Data);

/// <summary>
/// Where a layer sits in the model: the nested models around it (outermost first), its own name, and its class-based
/// path in a <c>.keras</c> weights file (<c>layers/functional_1/layers/dense</c>).
/// </summary>
internal sealed record LayerLocation(IReadOnlyList<string> Models, string Layer, string KerasPath)
{
    public override string ToString() => string.Join("/", [.. Models, Layer]);
}

/// <summary>Reads a layer's variables in the file's order.</summary>
internal interface IKerasWeights
{
    IReadOnlyList<WeightTensor> Read(LayerLocation location);
}

/// <summary>HDF5 helpers shared by both weight layouts.</summary>
internal static class Hdf5
{
    /// <summary>
    /// A string-list attribute (fixed-length or variable-length strings), including the <c>name0</c>, <c>name1</c> …
    /// chunks Keras writes when the list exceeds the 64 KiB attribute limit. Keras writes an empty list as an empty
    /// float64 array.
    /// </summary>
    public static IReadOnlyList<string> ReadStrings(IH5Object owner, string name)
    {
        if (owner.AttributeExists(name))
        {
            return ReadStringAttribute(owner.Attribute(name));
        }

        var chunks = new List<string>();
        for (var i = 0; owner.AttributeExists($"{name}{i}"); i++)
        {
            chunks.AddRange(ReadStringAttribute(owner.Attribute($"{name}{i}")));
        }

        return chunks;
    }

    public static string ReadString(IH5Object owner, string name)
    {
        var attribute = owner.Attribute(name);
        return attribute.Space.Rank == 0 ? Clean(attribute.Read<string>()) : string.Concat(ReadStringAttribute(attribute));
    }

    public static WeightTensor ReadTensor(IH5Dataset dataset, string? name)
    {
        var shape = dataset.Space.Dimensions.Select(d => (long)d).ToArray();
        if (dataset.Type.Class != H5DataTypeClass.FloatingPoint)
        {
            throw new KerasImportException($"Weight '{name}' has HDF5 type {dataset.Type.Class}; floating point expected.");
        }

        var data = dataset.Type.Size switch
        {
            4 => dataset.Read<float[]>(),
            8 => Array.ConvertAll(dataset.Read<double[]>(), v => (float)v),
            2 => Array.ConvertAll(dataset.Read<Half[]>(), v => (float)v),
            var size => throw new KerasImportException($"Weight '{name}' has {size}-byte floats; 2, 4 or 8 expected."),
        };
        return new WeightTensor(name, shape, data);
    }

    // Fixed-length strings have class String; h5py's variable-length strings have class VariableLength.
    private static string[] ReadStringAttribute(IH5Attribute attribute) =>
        attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength)
            ? []
            : attribute.Space.Rank == 0 ? [Clean(attribute.Read<string>())] : Array.ConvertAll(attribute.Read<string[]>(), Clean);

    private static string Clean(string value) => value.TrimEnd('\0');
}

/// <summary>
/// Legacy HDF5 weights (<c>model.save("x.h5")</c>, Keras 2 or Keras 3): group <c>model_weights/&lt;layer&gt;</c> with a
/// <c>weight_names</c> attribute whose entries are dataset paths inside that group (<c>conv1d/kernel:0</c>, or
/// <c>conv1d/kernel</c> from Keras 3). A nested model's group holds all of its layers' weights, each named after the
/// inner layer that owns it.
/// </summary>
internal sealed class LegacyH5Weights(IH5Group weightsRoot) : IKerasWeights
{
    public IReadOnlyList<WeightTensor> Read(LayerLocation location)
    {
        var top = location.Models.Count == 0 ? location.Layer : location.Models[0];
        if (!weightsRoot.LinkExists(top))
        {
            return [];
        }

        var group = weightsRoot.Group(top);
        var names = Hdf5.ReadStrings(group, "weight_names");
        if (location.Models.Count > 0)
        {
            names = names.Where(n => Owner(n) == location.Layer).ToList();
        }

        return names.Select(n => Hdf5.ReadTensor(group.Dataset(n), VariableName(n))).ToList();
    }

    /// <summary><c>dense_1/kernel:0</c> → <c>kernel</c>.</summary>
    private static string VariableName(string path)
    {
        var last = path[(path.LastIndexOf('/') + 1)..];
        var colon = last.LastIndexOf(':');
        return colon > 0 ? last[..colon] : last;
    }

    /// <summary><c>model/dense_1/kernel:0</c> → <c>dense_1</c> (the segment before the variable).</summary>
    private static string? Owner(string path)
    {
        var parts = path.Split('/');
        return parts.Length >= 2 ? parts[^2] : null;
    }
}

/// <summary>
/// Keras 3 <c>model.weights.h5</c> inside a <c>.keras</c> zip: variables at <c>&lt;path&gt;/vars/0</c>, <c>/1</c> … where the
/// path is built from class names and per-class counters (<see cref="KerasNaming"/>), not from layer names.
/// </summary>
internal sealed class KerasV3Weights(IH5Group root) : IKerasWeights
{
    public IReadOnlyList<WeightTensor> Read(LayerLocation location)
    {
        var path = location.KerasPath + "/vars";
        if (!root.LinkExists(location.KerasPath) || !root.LinkExists(path))
        {
            return [];
        }

        var vars = root.Group(path);
        return vars.Children()
            .Select(c => c.Name)
            .Select(n => (Name: n, Index: int.TryParse(n, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1))
            .Where(n => n.Index >= 0)
            .OrderBy(n => n.Index)
            .Select(n =>
            {
                var dataset = vars.Dataset(n.Name);
                var name = dataset.AttributeExists("name") ? Hdf5.ReadString(dataset, "name") : null;
                return Hdf5.ReadTensor(dataset, name);
            })
            .ToList();
    }
}
