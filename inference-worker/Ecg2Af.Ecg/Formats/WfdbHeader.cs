using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ecg2Af.Ecg.Formats;

/// <summary>One signal line of a WFDB header.</summary>
internal sealed record WfdbSignal(
    string FileName,
    int Format,
    int SamplesPerFrame,
    long ByteOffset,
    double Gain,
    bool GainDefaulted,
    double Baseline,
    string Units,
    long? InitialValue,
    long? Checksum,
    string Description);

/// <summary>A parsed WFDB header (<c>.hea</c>): the record line and the signal lines. Comments and blank lines may appear anywhere.</summary>
internal sealed partial record WfdbHeader(
    string RecordName,
    int SegmentCount,
    double SampleRateHz,
    bool SampleRateDefaulted,
    long? SampleCount,
    IReadOnlyList<WfdbSignal> Signals)
{
    private const int MaxSignals = 1024;

    // file  fmt[xSPF][:skew][+offset]
    [GeneratedRegex(@"^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex FormatToken();

    // gain[(baseline)][/units]; gain may carry an exponent (1.052e+04), baseline may be fractional or beyond int16.
    [GeneratedRegex(@"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\(([-+]?(?:\d+\.?\d*|\.\d+))\))?(?:/(.+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex GainToken();

    [GeneratedRegex(@"^[A-Za-z0-9_.~+\-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NameToken();

    /// <summary>
    /// Parses a header, or returns null when the text does not look like one (used for content sniffing). Throws
    /// <see cref="EcgFormatException"/> only for a text that clearly is a WFDB header but breaks a rule.
    /// </summary>
    public static WfdbHeader? TryParse(ReadOnlySpan<byte> content)
    {
        // Headers are small; anything over 64 KiB is some other text (a CSV), and is not split into lines here.
        if (content.Length > 1 << 16 || content.IsEmpty || content.Contains((byte)0))
        {
            return null;
        }

        // Before the text is split into lines: its first non-blank character must start a comment or the record name
        // (an XML or JSON document fails here at once).
        var first = 0;
        while (first < content.Length && char.IsWhiteSpace((char)content[first]))
        {
            first++;
        }

        if (first == content.Length || content[first] is not ((byte)'#' or (byte)'_' or (byte)'.' or (byte)'~' or (byte)'+' or (byte)'-')
            && !char.IsAsciiLetterOrDigit((char)content[first]))
        {
            return null;
        }

        var lines = Encoding.Latin1.GetString(content)
            .Split('\n')
            .Select(l => l.TrimEnd('\r').Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        if (lines.Count < 2)
        {
            return null;
        }

        var record = lines[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (record.Length < 2 || !int.TryParse(record[1], NumberStyles.None, CultureInfo.InvariantCulture, out var nsig)
            || nsig < 1 || nsig > MaxSignals || lines.Count < nsig + 1)
        {
            return null;
        }

        var nameParts = record[0].Split('/');
        if (!NameToken().IsMatch(nameParts[0]) || nameParts.Length > 2)
        {
            return null;
        }

        var signals = new List<WfdbSignal>(nsig);
        for (var i = 0; i < nsig; i++)
        {
            var signal = ParseSignal(lines[i + 1]);
            if (signal is null)
            {
                return null;
            }

            signals.Add(signal);
        }

        // From here on the text is a WFDB header; rule violations are errors, not "some other format".
        var segments = 1;
        if (nameParts.Length == 2)
        {
            segments = int.TryParse(nameParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        }

        var fs = 250.0;
        var fsDefaulted = true;
        if (record.Length > 2)
        {
            // fs[/counterfreq[(basecounter)]]
            var fsText = record[2].Split('/')[0];
            if (!double.TryParse(fsText, NumberStyles.Float, CultureInfo.InvariantCulture, out fs) || !double.IsFinite(fs) || fs <= 0)
            {
                throw Malformed($"the sampling frequency '{SafeXml.Clip(record[2])}' is not a positive number");
            }

            fsDefaulted = false;
        }

        long? nsamp = null;
        if (record.Length > 3)
        {
            nsamp = long.TryParse(record[3], NumberStyles.None, CultureInfo.InvariantCulture, out var ns)
                ? ns
                : throw Malformed($"the sample count '{SafeXml.Clip(record[3])}' is not a number");
        }

        return new WfdbHeader(nameParts[0], segments, fs, fsDefaulted, nsamp, signals);
    }

    private static WfdbSignal? ParseSignal(string line)
    {
        var t = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 2 || !NameToken().IsMatch(t[0])
            || double.TryParse(t[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return null;
        }

        var fmt = FormatToken().Match(t[1]);
        if (!fmt.Success)
        {
            return null;
        }

        var format = ParseInt(fmt.Groups[1].Value);
        var spf = fmt.Groups[2].Success ? ParseInt(fmt.Groups[2].Value) : 1;
        var offset = fmt.Groups[4].Success && long.TryParse(fmt.Groups[4].Value, CultureInfo.InvariantCulture, out var o) ? o : 0;
        if (format < 0 || spf < 0 || offset < 0)
        {
            throw Malformed($"the format field '{t[1]}' is out of range");
        }

        double gain = 0;
        double? baseline = null;
        var units = "mV";
        if (t.Length > 2)
        {
            var g = GainToken().Match(t[2]);
            if (!g.Success)
            {
                throw Malformed($"the gain field '{SafeXml.Clip(t[2])}' is not gain[(baseline)][/units]");
            }

            gain = double.Parse(g.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (g.Groups[2].Success)
            {
                baseline = double.Parse(g.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            if (g.Groups[3].Success)
            {
                units = g.Groups[3].Value;
            }
        }

        var gainDefaulted = gain == 0 || !double.IsFinite(gain);
        if (gainDefaulted)
        {
            gain = 200; // WFDB: a missing or zero gain means "uncalibrated, 200 adu per unit".
        }

        // adcres (t[3]) is not needed. adczero (t[4]) is the baseline when none is given in parentheses.
        var adcZero = t.Length > 4 ? ParseNumber(t[4], "ADC zero") : 0;
        long? initial = t.Length > 5 ? (long)ParseNumber(t[5], "initial value") : null;
        long? checksum = t.Length > 6 ? (long)ParseNumber(t[6], "checksum") : null;
        var description = t.Length > 8 ? string.Join(' ', t[8..]) : "";
        return new WfdbSignal(t[0], format, Math.Max(spf, 1), offset, gain, gainDefaulted, baseline ?? adcZero, units,
            initial, checksum, description);
    }

    private static int ParseInt(string s) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1;

    private static double ParseNumber(string s, string what) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && Math.Abs(v) < 1e15
            ? v
            : throw Malformed($"the {what} field '{SafeXml.Clip(s)}' is not a number");

    private static EcgFormatException Malformed(string what) =>
        new(EcgErrorKind.Malformed, $"Not a valid WFDB header: {what}.");
}
