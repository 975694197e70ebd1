using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>Voltage unit strings as files write them, and their factor to millivolts.</summary>
internal static class Units
{
    /// <summary>Factor that turns a value in <paramref name="unit"/> into mV, or null for a unit that is not a voltage.</summary>
    public static double? ToMillivolts(string? unit)
    {
        if (unit is null)
        {
            return null;
        }

        var u = unit.Trim().Trim('\'', '"', '[', ']', '(', ')').Trim();
        return u.ToUpperInvariant() switch
        {
            "MV" or "MILLIVOLT" or "MILLIVOLTS" => 1,
            // µ arrives as U+00B5 (Latin-1 micro sign), U+03BC (Greek mu) or, when Latin-1 bytes were read as UTF-8, U+FFFD.
            "UV" or "µV" or "ΜV" or "\uFFFDV" or "MICROVOLT" or "MICROVOLTS" => 1e-3,
            "NV" or "NANOVOLT" or "NANOVOLTS" => 1e-6,
            "V" or "VOLT" or "VOLTS" => 1e3,
            _ => null,
        };
    }

    /// <summary>Factor for a unit the caller gave in the request; an unknown one is the caller's mistake (400).</summary>
    public static double RequestUnits(string? units) => units is null
        ? 1
        : ToMillivolts(units) ?? throw new EcgFormatException(EcgErrorKind.Malformed,
            $"Unknown units '{units}' in the request; expected mV, uV or V.");

    public static string Describe(double mvPerUnit) => mvPerUnit switch
    {
        1 => "mV",
        1e-3 => "uV",
        1e-6 => "nV",
        1e3 => "V",
        _ => mvPerUnit.ToString("G4", CultureInfo.InvariantCulture) + " mV",
    };
}
