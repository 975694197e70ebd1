using System.Globalization;

namespace Ecg2Af.Ecg;

/// <summary>
/// Turns a decoded recording into the model input, following ecg2af-model.md §2.6 ("recommended server algorithm"):
/// map leads by name, derive III/aVR/aVL/aVF from I and II, bring the record to the model's samples and rate,
/// stack in the model's lead order, normalise.
/// </summary>
public static class EcgPreprocessor
{
    public static PreparedEcg Prepare(EcgRecording recording, InputSpec spec)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(spec);
        if (recording.SampleRateHz <= 0 || recording.SampleCount == 0)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, "The recording has no samples or no sample rate.");
        }

        var leads = new Dictionary<string, float[]>(recording.Leads, StringComparer.Ordinal);
        var derived = DeriveLimbLeads(leads, spec.Leads);
        var missing = spec.Leads.Where(l => !leads.ContainsKey(l)).ToList();
        if (missing.Count > 0)
        {
            throw new EcgFormatException(EcgErrorKind.Unusable,
                $"The model needs leads {string.Join(", ", spec.Leads)}; missing: {string.Join(", ", missing)}" +
                (leads.ContainsKey("I") && leads.ContainsKey("II") ? "." : " (III, aVR, aVL and aVF can be derived only when I and II are present)."));
        }

        var flags = new List<string>();
        var warnings = new List<string>(recording.Warnings);
        var sourceRate = recording.SampleRateHz;
        var sourceSamples = recording.SampleCount;
        var wanted = (int)Math.Round(spec.DurationSeconds * sourceRate);
        var cropped = false;
        var padded = false;
        int usedSamples;
        if (sourceSamples >= wanted)
        {
            usedSamples = wanted;
            if (sourceSamples > wanted)
            {
                cropped = true;
                flags.Add(Invariant($"cropped:{recording.DurationSeconds:0.###}s->{spec.DurationSeconds:0.###}s"));
                warnings.Add(Invariant($"The record is {recording.DurationSeconds:0.###} s long; its first {spec.DurationSeconds:0.###} s were used."));
            }
        }
        else if (spec.LengthPolicy == LengthPolicy.Pad)
        {
            usedSamples = sourceSamples;
            padded = true;
            flags.Add(Invariant($"zero_padded:{recording.DurationSeconds:0.###}s->{spec.DurationSeconds:0.###}s"));
        }
        else
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, Invariant(
                $"The record is {recording.DurationSeconds:0.###} s long ({sourceSamples} samples at {sourceRate:0.###} Hz); the model needs {spec.DurationSeconds:0.###} s."));
        }

        var targetSamples = spec.LengthPolicy == LengthPolicy.Pad
            ? (int)Math.Round(usedSamples * spec.SampleRateHz / sourceRate)
            : spec.Samples;
        targetSamples = Math.Min(targetSamples, spec.Samples);
        var resampled = usedSamples != targetSamples;
        if (resampled)
        {
            flags.Add(Invariant($"resampled:{sourceRate:0.###}Hz->{spec.SampleRateHz:0.###}Hz"));
        }

        var channels = spec.Leads.Count;
        var data = new float[spec.Samples * channels];
        var scale = spec.Normalization == NormalizationKind.None && spec.Units == "uV" ? 1000f : 1f;
        for (var c = 0; c < channels; c++)
        {
            var source = leads[spec.Leads[c]].AsSpan(0, usedSamples);
            CheckFinite(source, spec.Leads[c]);
            if (IsFlat(source))
            {
                flags.Add($"flat_lead:{spec.Leads[c]}");
            }

            var lead = resampled ? Resampling.Linear(source, targetSamples) : source.ToArray();
            for (var t = 0; t < targetSamples; t++)
            {
                data[(t * channels) + c] = lead[t] * scale;
            }
        }

        double mean = 0, std = 1;
        if (spec.Normalization == NormalizationKind.GlobalZScore)
        {
            (mean, std) = Normalization.GlobalZScore(data, spec.Epsilon);
        }

        return new PreparedEcg
        {
            Data = data,
            Leads = spec.Leads,
            Samples = spec.Samples,
            Mean = mean,
            Std = std,
            LeadsPresent = Leads.Standard12.Where(recording.Leads.ContainsKey).ToList(),
            LeadsDerived = derived,
            Resampled = resampled,
            Cropped = cropped,
            Padded = padded,
            QualityFlags = flags,
            Warnings = warnings,
        };
    }

    /// <summary>Adds III, aVR, aVL, aVF computed from I and II when the model needs them and the record lacks them.</summary>
    internal static IReadOnlyList<string> DeriveLimbLeads(Dictionary<string, float[]> leads, IReadOnlyList<string> needed)
    {
        var derived = new List<string>();
        if (!leads.TryGetValue("I", out var i) || !leads.TryGetValue("II", out var ii))
        {
            return derived;
        }

        foreach (var name in Leads.Derivable)
        {
            if (leads.ContainsKey(name) || !needed.Contains(name))
            {
                continue;
            }

            var lead = new float[i.Length];
            for (var t = 0; t < lead.Length; t++)
            {
                lead[t] = name switch
                {
                    "III" => ii[t] - i[t],
                    "aVR" => -(i[t] + ii[t]) / 2f,
                    "aVL" => i[t] - (ii[t] / 2f),
                    _ => ii[t] - (i[t] / 2f),
                };
            }

            leads[name] = lead;
            derived.Add(name);
        }

        return derived;
    }

    private static void CheckFinite(ReadOnlySpan<float> lead, string name)
    {
        foreach (var v in lead)
        {
            if (!float.IsFinite(v))
            {
                throw new EcgFormatException(EcgErrorKind.Unusable, $"Lead {name} contains NaN or infinite values.");
            }
        }
    }

    private static bool IsFlat(ReadOnlySpan<float> lead)
    {
        if (lead.IsEmpty)
        {
            return true;
        }

        float min = lead[0], max = lead[0];
        foreach (var v in lead)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return max - min < 1e-3f; // under 1 µV peak to peak
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
