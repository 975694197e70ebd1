using System.Text.RegularExpressions;

namespace Ecg2Af.Inference.Keras;

/// <summary>Keras' <c>to_snake_case</c> (keras/src/utils/naming.py), which names the weight groups of a <c>.keras</c> file.</summary>
internal static partial class KerasNaming
{
    /// <summary><c>Conv1D</c> → <c>conv1d</c>, <c>MaxPooling1D</c> → <c>max_pooling1d</c>, <c>LeakyReLU</c> → <c>leaky_re_lu</c>.</summary>
    public static string ToSnakeCase(string className)
    {
        var name = NonWord().Replace(className, "");
        name = WordStart().Replace(name, "$1_$2");
        name = LowerUpper().Replace(name, "$1_$2");
        return name.ToLowerInvariant();
    }

    [GeneratedRegex(@"\W+")]
    private static partial Regex NonWord();

    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex WordStart();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();
}
