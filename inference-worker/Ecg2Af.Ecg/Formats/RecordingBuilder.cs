using System.Globalization;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// Collects decoded channels under their file labels and applies the rules every reader shares: map labels to
/// canonical leads, flip inverted leads, warn about MLII, skip extras, keep the first of duplicates, equal lengths.
/// </summary>
internal sealed class RecordingBuilder(string format, double sampleRateHz)
{
    private readonly Dictionary<string, float[]> _leads = new(StringComparer.Ordinal);
    private readonly List<string> _ignored = [];
    private double? _step;

    public List<string> Warnings { get; } = [];

    public List<string> Flags { get; } = [];

    public double SampleRateHz { get; set; } = sampleRateHz;

    public int Count => _leads.Count;

    public IEnumerable<string> LeadNames => _leads.Keys;

    /// <summary>Resolves a label; null when it is not one of the 12 leads (the channel is then reported as ignored).</summary>
    public LeadLabel? Resolve(string label)
    {
        var lead = Leads.Parse(label);
        if (lead is null)
        {
            _ignored.Add(string.IsNullOrWhiteSpace(label) ? "(unnamed)" : label.Trim());
            return null;
        }

        if (_leads.ContainsKey(lead.Value.Name))
        {
            Warnings.Add($"Channel '{label.Trim()}' repeats lead {lead.Value.Name}; the first one was used.");
            return null;
        }

        return lead;
    }

    /// <summary>Adds samples (mV) for a label resolved by <see cref="Resolve"/>.</summary>
    public void Add(LeadLabel lead, string label, float[] samples, double? stepMv = null)
    {
        if (lead.Inverted)
        {
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] = -samples[i];
            }

            Warnings.Add($"Channel '{label.Trim()}' is an inverted lead; its sign was flipped to give {lead.Name}.");
        }

        if (lead.Modified)
        {
            Warnings.Add($"Channel '{label.Trim()}' is a modified ambulatory lead, read as {lead.Name}; it is not the same as a standard limb lead.");
        }

        if (stepMv is { } s && double.IsFinite(s))
        {
            _step = Math.Max(_step ?? 0, Math.Abs(s));
        }

        _leads[lead.Name] = samples;
    }

    /// <summary>Resolves and adds in one step; false when the label was not a lead.</summary>
    public bool TryAdd(string label, float[] samples, double? stepMv = null)
    {
        if (Resolve(label) is not { } lead)
        {
            return false;
        }

        Add(lead, label, samples, stepMv);
        return true;
    }

    public EcgRecording Build(string? recordName)
    {
        if (_leads.Count == 0)
        {
            var channels = _ignored.Count == 0 ? "none" : string.Join(", ", _ignored.Take(20));
            throw new EcgFormatException(EcgErrorKind.Unusable,
                $"No ECG lead was recognised (channels: {channels}). Expected leads named {string.Join(", ", Leads.Standard12)}.");
        }

        if (_ignored.Count > 0)
        {
            Warnings.Add($"Channels that are not one of the 12 standard leads were ignored: {string.Join(", ", _ignored.Take(20))}.");
        }

        var min = _leads.Values.Min(l => l.Length);
        var max = _leads.Values.Max(l => l.Length);
        if (min != max)
        {
            Warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"Leads have different lengths ({min} to {max} samples); all were cut to {min}."));
            foreach (var name in _leads.Keys.ToList())
            {
                if (_leads[name].Length != min)
                {
                    _leads[name] = _leads[name][..min];
                }
            }
        }

        if (!double.IsFinite(SampleRateHz) || SampleRateHz <= 0 || SampleRateHz > 1_000_000)
        {
            throw new EcgFormatException(EcgErrorKind.Malformed, string.Create(CultureInfo.InvariantCulture,
                $"The file declares an impossible sample rate ({SampleRateHz} Hz)."));
        }

        return new EcgRecording
        {
            Format = format,
            SampleRateHz = SampleRateHz,
            Leads = _leads,
            RecordName = recordName,
            Warnings = Warnings,
            QualityFlags = Flags,
            QuantizationStepMv = _step,
        };
    }
}
