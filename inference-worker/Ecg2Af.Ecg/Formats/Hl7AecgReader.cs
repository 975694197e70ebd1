using System.Xml;
using System.Xml.Linq;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// HL7 v3 annotated ECG (FDA aECG). Reads only the sequences that are direct children of a RHYTHM series
/// (<c>AnnotatedECG/component/series/component/sequenceSet/component/sequence</c>); the representative beats nested
/// under <c>series/derivation</c> are never touched. Physical value = origin + scale × digit.
/// </summary>
internal static class Hl7AecgReader
{
    public const string FormatId = "hl7-aecg";
    public const string RootElement = "AnnotatedECG";

    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    // Element path (local names) from the root to a rhythm sequence; the series' code sits beside its components.
    private static readonly string[] SequencePath = ["AnnotatedECG", "component", "series", "component", "sequenceSet", "component", "sequence"];

    public static EcgRecording Read(EcgFile file, EcgReadOptions options)
    {
        var sets = new List<List<XElement>>();
        using (var reader = SafeXml.Open(file.Content, options))
        {
            // Only the elements on the way to a rhythm sequence are entered (so path is always a prefix of
            // SequencePath); every other subtree (annotations, representative beats, demographics) is skipped.
            var path = new List<string>();
            string? seriesCode = null;
            List<XElement>? currentSet = null;
            var seriesSets = new List<List<XElement>>();
            long characters = 0;
            reader.MoveToContent();
            while (!reader.EOF)
            {
                if (reader.NodeType == XmlNodeType.Element)
                {
                    var depth = path.Count;
                    var name = reader.LocalName;
                    if (depth == 3 && name == "code")
                    {
                        seriesCode = reader.GetAttribute("code");
                        reader.Skip();
                    }
                    else if (depth == 6 && name == "sequence")
                    {
                        var sequence = (XElement)XNode.ReadFrom(reader);
                        characters += sequence.Descendants().FirstOrDefault(e => e.Name.LocalName == "digits")?.Value.Length ?? 0;
                        Limits.CheckSamples(characters / 2, options, "The aECG file");
                        currentSet?.Add(sequence);
                    }
                    else if (depth < 6 && name == SequencePath[depth] && !reader.IsEmptyElement)
                    {
                        path.Add(name);
                        if (depth == 2)
                        {
                            seriesCode = null;
                            seriesSets = [];
                        }
                        else if (depth == 4)
                        {
                            currentSet = [];
                            seriesSets.Add(currentSet);
                        }

                        reader.Read();
                    }
                    else
                    {
                        reader.Skip();
                    }

                    continue;
                }

                if (reader.NodeType == XmlNodeType.EndElement && path.Count > 0)
                {
                    path.RemoveAt(path.Count - 1);
                    if (path.Count == 2 && string.Equals(seriesCode, "RHYTHM", StringComparison.OrdinalIgnoreCase))
                    {
                        sets.AddRange(seriesSets);
                    }
                }

                reader.Read();
            }
        }

        // Several RHYTHM sequence sets may exist: the first with 8 or more leads, else the one with the most.
        var chosen = sets.FirstOrDefault(s => s.Count(IsLead) >= 8) ?? sets.MaxBy(s => s.Count(IsLead));
        if (chosen is null || !chosen.Any(IsLead))
        {
            throw new EcgFormatException(EcgErrorKind.Unusable, "The aECG file has no RHYTHM series with lead sequences.");
        }

        double? fs = null;
        var builder = new RecordingBuilder(FormatId, 0);
        foreach (var sequence in chosen)
        {
            var code = sequence.Elements().FirstOrDefault(e => e.Name.LocalName == "code")?.Attribute("code")?.Value ?? "";
            var value = sequence.Elements().FirstOrDefault(e => e.Name.LocalName == "value");
            if (value is null)
            {
                continue;
            }

            var type = (string?)value.Attribute(Xsi + "type") ?? "";
            type = type[(type.IndexOf(':', StringComparison.Ordinal) + 1)..];
            if (type is "GLIST_TS" or "GLIST_PQ")
            {
                fs ??= SampleRate(value);
            }
            else if (type == "SLIST_PQ" && builder.Resolve(code) is { } lead)
            {
                var (samples, step) = Samples(value, code);
                builder.Add(lead, code, samples, step);
            }
        }

        builder.SampleRateHz = fs
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, "The aECG RHYTHM sequence set has no time sequence (GLIST_TS or GLIST_PQ increment).");
        return builder.Build(Path.GetFileNameWithoutExtension(file.FileName));
    }

    private static bool IsLead(XElement sequence) =>
        sequence.Elements().FirstOrDefault(e => e.Name.LocalName == "code")?.Attribute("code")?.Value is { } code
        && Leads.Normalize(code) is not null;

    private static double SampleRate(XElement value)
    {
        var increment = value.Elements().FirstOrDefault(e => e.Name.LocalName == "increment")
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, "The aECG time sequence has no increment.");
        var step = SafeXml.ParseDouble((string?)increment.Attribute("value"), "The aECG time increment");
        var unit = ((string?)increment.Attribute("unit") ?? "s").Trim();
        var seconds = unit switch
        {
            "s" => step,
            "ms" => step / 1e3,
            "us" => step / 1e6,
            _ => throw new EcgFormatException(EcgErrorKind.Malformed, $"The aECG time increment has unknown unit '{SafeXml.Clip(unit)}'."),
        };
        return seconds > 0 ? 1 / seconds : throw new EcgFormatException(EcgErrorKind.Malformed, "The aECG time increment is not positive.");
    }

    private static (float[] Samples, double StepMv) Samples(XElement value, string code)
    {
        var origin = Quantity(value, "origin", code, required: false);
        var scale = Quantity(value, "scale", code, required: true);
        var digits = value.Elements().FirstOrDefault(e => e.Name.LocalName == "digits")?.Value ?? "";
        var samples = Numbers.ParseList(digits, digit => (float)(origin + (scale * digit)))
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"aECG lead {code}: the digits are not all numbers.");

        return ([.. samples], scale);
    }

    /// <summary>A physical quantity element (<c>value</c> + <c>unit</c>) in mV.</summary>
    private static double Quantity(XElement value, string name, string code, bool required)
    {
        var element = value.Elements().FirstOrDefault(e => e.Name.LocalName == name);
        if (element is null)
        {
            return required
                ? throw new EcgFormatException(EcgErrorKind.Malformed, $"aECG lead {code} has no {name}.")
                : 0;
        }

        var unitText = (string?)element.Attribute("unit") ?? "uV";
        var unit = Units.ToMillivolts(unitText)
            ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"aECG lead {code}: unknown {name} unit '{SafeXml.Clip(unitText)}'.");
        return SafeXml.ParseDouble((string?)element.Attribute("value"), $"aECG lead {code} {name}") * unit;
    }
}
