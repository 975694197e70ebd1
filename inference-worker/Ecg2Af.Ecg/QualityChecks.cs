using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace Ecg2Af.Ecg;

/// <summary>
/// Signal checks made on the window the model will see, at the source rate, in mV (ecg-formats.md §1): flat leads,
/// clipping, implausible amplitude (a header whose gain is off by a factor) and the Einthoven/Goldberger residual of
/// stored limb leads. They add flags and warnings; a flat independent lead (I, II, V1–V6) makes a record unusable unless
/// the caller allows it, and then it is flagged loudly.
/// </summary>
internal static class QualityChecks
{
    /// <summary>A lead whose swing stays under this (mV) carries no signal: electrode off, or zeros (see <see cref="Run"/>).</summary>
    public const double FlatMv = 0.01;

    /// <summary>Median robust peak-to-peak over leads; a resting ECG sits at about 0.5–3 mV.</summary>
    public const double HighAmplitudeMv = 4;

    public const double LowAmplitudeMv = 0.1;

    /// <summary>A stored limb lead that differs from its I/II formula by more than this (mV, or 3 steps) is suspect.</summary>
    public const double ResidualMv = 0.05;

    /// <summary>Samples pinned at a lead's extreme for this long (seconds) mean the signal was clipped.</summary>
    public const double ClipSeconds = 0.03;

    public static void Run(IReadOnlyDictionary<string, float[]> leads, IReadOnlySet<string> stored, double fs, double? stepMv,
        List<string> flags, List<string> warnings, bool allowFlat = false)
    {
        var swings = new List<double>();
        var flat = new List<string>();
        var ranges = leads.ToDictionary(kv => kv.Key, kv => MinMax(kv.Value), StringComparer.Ordinal);

        // Flat: under 0.01 mV, unless the whole record is that small (a units error, flagged below), where it is
        // relative to the median lead; a constant lead is always flat.
        var medianSwing = Median([.. ranges.Values.Select(r => (double)r.Max - r.Min)]);
        var flatBelow = Math.Max(1e-6, Math.Min(FlatMv, 0.05 * medianSwing));
        foreach (var (name, samples) in leads)
        {
            var (min, max) = ranges[name];
            if (max - min < flatBelow)
            {
                flat.Add(name);
                flags.Add($"flat_lead:{name}");
                continue;
            }

            swings.Add(RobustRange(samples));
            if (stored.Contains(name) && IsClipped(samples, min, max, fs))
            {
                flags.Add($"clipping:{name}");
                warnings.Add($"Lead {name} stays at its extreme value for {ClipSeconds * 1000:0} ms or more: the signal looks clipped.");
            }
        }

        if (flat.Count == leads.Count)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, "Every lead is flat (no signal): the ECG cannot be used.");
        }

        // III, aVR, aVL and aVF follow from I and II; a flat one of the eight others is information the model lacks.
        var independent = Leads.Independent.Where(flat.Contains).ToList();
        if (independent.Count > 0 && !allowFlat)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable,
                $"Leads {string.Join(", ", independent)} are flat (no signal: electrode off or not recorded). The model needs signal in I, II and V1–V6; " +
                "it would score zeros in their place. Record the ECG again, or set allow_flat_leads=true (ecg2af --allow-flat-leads) to score it anyway with the flag scored_with_flat_leads.");
        }

        if (independent.Count > 0)
        {
            flags.Add($"scored_with_flat_leads:{string.Join(",", independent)}");
            warnings.Add($"SCORED WITH FLAT LEADS ({string.Join(", ", independent)}), as the request allowed: the model saw no signal there, so the result is not a valid ECG2AF estimate.");
        }

        if (flat.Count > 0)
        {
            warnings.Add($"Flat leads (no signal, electrode off?): {string.Join(", ", flat)}.");
        }

        var median = Median(swings);
        if (median > HighAmplitudeMv)
        {
            flags.Add(Invariant($"amplitude_high:{median:0.##}mV"));
            warnings.Add(Invariant($"The leads swing {median:0.##} mV peak to peak (median); a resting ECG swings about 0.5–3 mV. The file's gain or units are probably wrong (for example microvolts under a millivolt gain)."));
        }
        else if (median < LowAmplitudeMv)
        {
            flags.Add(Invariant($"amplitude_low:{median:0.###}mV"));
            warnings.Add(Invariant($"The leads swing only {median:0.###} mV peak to peak (median); a resting ECG swings about 0.5–3 mV. The file's gain or units are probably wrong."));
        }

        CheckResiduals(leads, stored, stepMv, flags, warnings);
    }

    /// <summary>Compares stored III, aVR, aVL, aVF with their values from stored I and II.</summary>
    private static void CheckResiduals(IReadOnlyDictionary<string, float[]> leads, IReadOnlySet<string> stored, double? stepMv,
        List<string> flags, List<string> warnings)
    {
        if (!stored.Contains("I") || !stored.Contains("II"))
        {
            return;
        }

        var i = leads["I"];
        var ii = leads["II"];
        var scratch = new float[i.Length];
        var limit = Math.Max(ResidualMv, 3 * (stepMv ?? 0));
        foreach (var name in Leads.Derivable)
        {
            if (!stored.Contains(name) || !leads.TryGetValue(name, out var lead))
            {
                continue;
            }

            var (a, b) = EcgPreprocessor.LimbWeights(name);
            TensorPrimitives.Multiply(i, a, scratch);
            TensorPrimitives.MultiplyAdd(ii, b, scratch, scratch);
            TensorPrimitives.Subtract(lead, scratch, scratch);
            var worst = Math.Abs(TensorPrimitives.MaxMagnitude<float>(scratch));

            if (worst > limit)
            {
                flags.Add(Invariant($"lead_residual:{name}:{worst:0.###}mV"));
                warnings.Add(Invariant($"Lead {name} differs from its value computed from I and II by up to {worst:0.###} mV: the leads may be mislabelled, reordered or scaled differently."));
            }
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n == 0 ? 0 : n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static (float Min, float Max) MinMax(float[] samples) => (TensorPrimitives.Min<float>(samples), TensorPrimitives.Max<float>(samples));

    /// <summary>
    /// Peak to peak without the most extreme 0.2 % at each end (at least one sample), so that a lone spike does not
    /// count: the k-th largest minus the k-th smallest value, found by keeping the k most extreme seen so far.
    /// </summary>
    internal static double RobustRange(float[] samples)
    {
        var k = Math.Clamp(samples.Length / 500, 1, 64);
        Span<float> top = stackalloc float[k];
        Span<float> bottom = stackalloc float[k];
        top.Fill(float.NegativeInfinity);
        bottom.Fill(float.PositiveInfinity);
        var span = samples.AsSpan();
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= span.Length - width; i += width)
        {
            // Most blocks hold nothing more extreme than the k-th values so far: skip them in one compare each.
            var block = new Vector<float>(span[i..]);
            if (Vector.GreaterThanAny(block, new Vector<float>(top[0])) || Vector.LessThanAny(block, new Vector<float>(bottom[0])))
            {
                for (var j = i; j < i + width; j++)
                {
                    Keep(top, bottom, span[j]);
                }
            }
        }

        for (; i < span.Length; i++)
        {
            Keep(top, bottom, span[i]);
        }

        return top[0] - bottom[0];
    }

    /// <summary>Keeps the k largest (ascending in <paramref name="top"/>) and k smallest (descending in <paramref name="bottom"/>).</summary>
    private static void Keep(Span<float> top, Span<float> bottom, float v)
    {
        if (v > top[0])
        {
            var j = 0;
            while (j + 1 < top.Length && top[j + 1] < v)
            {
                top[j] = top[j + 1];
                j++;
            }

            top[j] = v;
        }

        if (v < bottom[0])
        {
            var j = 0;
            while (j + 1 < bottom.Length && bottom[j + 1] > v)
            {
                bottom[j] = bottom[j + 1];
                j++;
            }

            bottom[j] = v;
        }
    }

    private static bool IsClipped(float[] samples, float min, float max, double fs)
    {
        var run = Math.Max(4, (int)Math.Round(ClipSeconds * fs));
        return LongestRun(samples, max) >= run || LongestRun(samples, min) >= run;
    }

    /// <summary>The longest run of samples equal to <paramref name="value"/>, found with a vectorised search on the bits.</summary>
    private static int LongestRun(float[] samples, float value)
    {
        var bits = MemoryMarshal.Cast<float, int>(samples.AsSpan());
        var target = BitConverter.SingleToInt32Bits(value);
        var longest = 0;
        var at = bits.IndexOf(target);
        while (at >= 0)
        {
            var end = at;
            while (end < bits.Length && bits[end] == target)
            {
                end++;
            }

            longest = Math.Max(longest, end - at);
            var next = bits[end..].IndexOf(target);
            at = next < 0 ? -1 : end + next;
        }

        return longest;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
