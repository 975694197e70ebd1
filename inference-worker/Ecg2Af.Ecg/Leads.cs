namespace Ecg2Af.Ecg;

/// <summary>Canonical 12-lead names and the mapping of the names real files use onto them.</summary>
public static class Leads
{
    /// <summary>The ECG2AF channel order (ml4h <c>ECG_REST_AMP_LEADS</c>).</summary>
    public static readonly IReadOnlyList<string> Standard12 =
        ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    /// <summary>The limb leads that can be derived from I and II (Einthoven and Goldberger).</summary>
    public static readonly IReadOnlyList<string> Derivable = ["III", "aVR", "aVL", "aVF"];

    private static readonly Dictionary<string, string> Canonical = BuildCanonical();

    /// <summary>Maps a lead label as written in a file to its canonical name, or null when it is not one of the 12.</summary>
    public static string? Normalize(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        var key = label.Trim();
        foreach (var prefix in (string[])["MDC_ECG_LEAD_", "strip_", "Lead", "ECG", "EKG"])
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && key.Length > prefix.Length)
            {
                key = key[prefix.Length..];
            }
        }

        key = key.Trim().Trim('-', '_', ' ', ':').ToUpperInvariant();
        return Canonical.GetValueOrDefault(key);
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
