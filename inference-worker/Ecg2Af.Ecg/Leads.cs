namespace Ecg2Af.Ecg;

/// <summary>Canonical 12-lead names and the mapping of the names real files use onto them.</summary>
public static class Leads
{
    /// <summary>The ECG2AF channel order (ml4h <c>ECG_REST_AMP_LEADS</c>).</summary>
    public static readonly IReadOnlyList<string> Standard12 =
        ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    /// <summary>The limb leads that can be derived from I and II (Einthoven and Goldberger).</summary>
    public static readonly IReadOnlyList<string> Derivable = ["III", "aVR", "aVL", "aVF"];

    /// <summary>The leads that carry independent information: the rest of the 12 are sums of I and II.</summary>
    public static readonly IReadOnlyList<string> Independent = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"];

    private static readonly Dictionary<string, string> Canonical = BuildCanonical();

    // Longest first, so that "MDC_ECG_LEAD_" wins over "ECG" would it ever matter.
    private static readonly string[] Prefixes = ["MDC_ECG_LEAD_", "strip_", "Lead", "ECG", "EKG"];

    /// <summary>Maps a lead label as written in a file to its canonical name, or null when it is not one of the 12.</summary>
    public static string? Normalize(string label) => Parse(label)?.Name;

    /// <summary>
    /// Like <see cref="Normalize"/>, and also says whether the label marks an inverted lead (<c>-aVR</c>, Cabrera display)
    /// or a modified ambulatory lead (<c>MLII</c>, read as II with a warning).
    /// </summary>
    internal static LeadLabel? Parse(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        var key = label.Trim().Trim('\'', '"').Trim();
        var inverted = false;
        if (key.StartsWith('-'))
        {
            inverted = true;
            key = key[1..];
        }

        // "Lead I (Einthoven)": drop the remark in parentheses.
        var paren = key.IndexOf('(', StringComparison.Ordinal);
        if (paren > 0)
        {
            key = key[..paren];
        }

        var stripped = true;
        while (stripped)
        {
            stripped = false;
            key = key.Trim().Trim('-', '_', ' ', ':', '.');
            foreach (var prefix in Prefixes)
            {
                if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && key.Length > prefix.Length)
                {
                    key = key[prefix.Length..];
                    stripped = true;
                    break;
                }
            }
        }

        key = key.ToUpperInvariant();
        if (key == "MLII")
        {
            return new LeadLabel("II", inverted, Modified: true);
        }

        return Canonical.TryGetValue(key, out var name) ? new LeadLabel(name, inverted, Modified: false) : null;
    }

    private static Dictionary<string, string> BuildCanonical()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var lead in Standard12)
        {
            map[lead.ToUpperInvariant()] = lead;
        }

        map["DI"] = "I";
        map["D1"] = "I";
        map["DII"] = "II";
        map["D2"] = "II";
        map["DIII"] = "III";
        map["D3"] = "III";
        for (var i = 1; i <= 6; i++)
        {
            map[$"C{i}"] = $"V{i}";
        }

        return map;
    }
}

/// <summary>A lead label resolved to its canonical name.</summary>
internal readonly record struct LeadLabel(string Name, bool Inverted, bool Modified);
