using System.Globalization;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// values[i] = (float)(values[i] × scale) in place (counts or another unit to mV), computed in double as the
    /// scalar form does (so the results are the same bits), eight values a step; nothing to do for a scale of 1.
    /// </summary>
    public static void Scale(Span<float> values, double scale)
    {
        if (scale == 1)
        {
            return;
        }

        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var factor = Vector256.Create(scale);
            for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            {
                var v = Vector256.Create((ReadOnlySpan<float>)values[i..]);
                Vector256.Narrow(Vector256.WidenLower(v) * factor, Vector256.WidenUpper(v) * factor).CopyTo(values[i..]);
            }
        }

        for (; i < values.Length; i++)
        {
            values[i] = (float)(values[i] * scale);
        }
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
