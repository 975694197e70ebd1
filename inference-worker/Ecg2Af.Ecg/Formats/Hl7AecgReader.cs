using System.Buffers;
using System.Globalization;
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
        // Two thirds of an aECG file is digits text, which XmlReader scans slowly. When every <digits> element holds
        // plain text (no markup, no entity), the XML reader sees a skeleton with each one's text replaced by "#k", and
        // the numbers are parsed from the original bytes. Most of the rest is annotations, which this reader never
        // reads: the skeleton leaves out every annotationSet element it can delimit from the bytes alone.
        // Anything unusual takes the plain path over the whole file.
        var digits = DigitSpans(file.Content.Span);
        if (digits is not null)
        {
            Limits.CheckSamples(digits.Sum(d => (long)d.End.Value - d.Start.Value) / 2, options, "The aECG file");
        }

        var skeletonLength = 0;
        var skeleton = digits is null ? null : Skeleton(file.Content.Span, digits, out skeletonLength);
        var content = skeleton is null ? file.Content : skeleton.AsMemory(0, skeletonLength);
        List<List<XElement>> sets;
        try
        {
            sets = RhythmSets(content, options);
        }
        finally
        {
            if (skeleton is not null)
            {
                ArrayPool<byte>.Shared.Return(skeleton); // the elements kept are copies; the samples come from the file
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
                var (samples, step) = Samples(value, code, file.Content.Span, digits);
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

    private static (float[] Samples, double StepMv) Samples(XElement value, string code, ReadOnlySpan<byte> original, List<Range>? spans)
    {
        var origin = Quantity(value, "origin", code, required: false);
        var scale = Quantity(value, "scale", code, required: true);
        var digits = value.Elements().FirstOrDefault(e => e.Name.LocalName == "digits")?.Value ?? "";
        var samples = spans is not null && digits.StartsWith('#')
            && int.TryParse(digits.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k < spans.Count
                ? Numbers.ParseList(original[spans[k]], origin, scale) // ASCII, checked by DigitSpans
                : Numbers.ParseList(digits, origin, scale);
        return (samples ?? throw new EcgFormatException(EcgErrorKind.Malformed, $"aECG lead {code}: the digits are not all numbers."), scale);
    }

    /// <summary>
    /// The text of every <c>&lt;digits&gt;</c> element (unprefixed) when all of them are plain ASCII without markup or
    /// entities and the file is UTF-8 or ASCII; null otherwise (the caller then reads the file as it is).
    /// </summary>
    internal static List<Range>? DigitSpans(ReadOnlySpan<byte> content)
    {
        if (content.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || content.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || content.IndexOf((byte)0) >= 0)
        {
            return null; // UTF-16
        }

        var spans = new List<Range>();
        var at = 0;
        while (true)
        {
            var open = content[at..].IndexOf("<digits"u8);
            if (open < 0)
            {
                return spans;
            }

            var tag = at + open + "<digits".Length;
            if (tag >= content.Length)
            {
                return spans;
            }

            if (content[tag] is not ((byte)'>' or (byte)'/' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                at = tag; // another element whose name starts with "digits"
                continue;
            }

            var close = content[tag..].IndexOf((byte)'>');
            if (close < 0 || content.Slice(tag, close).IndexOfAny((byte)'"', (byte)'\'') >= 0)
            {
                return null; // unterminated, or attributes on <digits>: leave it to the XML reader
            }

            var start = tag + close + 1;
            if (content[start - 2] == '/')
            {
                at = start; // <digits/>
                continue;
            }

            var end = content[start..].IndexOf("</digits>"u8);
            if (end < 0 || content.Slice(start, end).IndexOfAny((byte)'<', (byte)'&') >= 0 || content.Slice(start, end).IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
            {
                return null;
            }

            spans.Add(start..(start + end));
            at = start + end;
        }
    }

    /// <summary>The sequence sets of every RHYTHM series, in document order, read from the (skeleton) document.</summary>
    private static List<List<XElement>> RhythmSets(ReadOnlyMemory<byte> content, EcgReadOptions options)
    {
        var sets = new List<List<XElement>>();
        using var reader = SafeXml.Open(content, options);
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

        return sets;
    }

    /// <summary>
    /// The file with each digits text replaced by <c>#k</c>, its index in <paramref name="spans"/>, and without its
    /// annotationSet elements (see <see cref="ElementEnd"/>): the first <paramref name="length"/> bytes of an array
    /// from <see cref="ArrayPool{T}.Shared"/>, for the caller to return (it would sit on the large object heap).
    /// </summary>
    internal static byte[] Skeleton(ReadOnlySpan<byte> content, List<Range> spans, out int length)
    {
        // At most the file without the digits, plus "#k" (up to 11 bytes) for each.
        var capacity = (long)content.Length;
        foreach (var span in spans)
        {
            capacity -= span.GetOffsetAndLength(content.Length).Length - 11;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(capacity, Array.MaxLength));
        length = 0;
        var at = 0;
        for (var k = 0; k < spans.Count; k++)
        {
            var (start, size) = spans[k].GetOffsetAndLength(content.Length);
            WithoutAnnotations(content[at..start], buffer, ref length);
            buffer[length++] = (byte)'#';
            k.TryFormat(buffer.AsSpan(length), out var digits, default, CultureInfo.InvariantCulture);
            length += digits;
            at = start + size;
        }

        WithoutAnnotations(content[at..], buffer, ref length);
        return buffer;
    }

    /// <summary>
    /// Copies markup without the annotationSet elements that lie wholly inside it. The walk goes from one '&lt;' to the
    /// next (in well-formed XML every '&lt;' outside comments, CDATA sections and processing instructions starts a tag:
    /// attribute values and text cannot hold one); a DOCTYPE or anything cut off ends it, and the rest is copied as is.
    /// </summary>
    private static void WithoutAnnotations(ReadOnlySpan<byte> markup, byte[] into, ref int length)
    {
        var copied = 0;
        var at = markup.IndexOf((byte)'<');
        while (at >= 0)
        {
            var special = Special(markup[at..]);
            if (special < 0)
            {
                break;
            }

            var next = at + Math.Max(special, 1);
            if (special == 0 && IsAnnotationSet(markup[(at + 1)..]) && ElementEnd(markup, at) is var end and > 0)
            {
                Append(markup[copied..at], into, ref length);
                copied = next = end;
            }

            at = NextTag(markup, next);
        }

        Append(markup[copied..], into, ref length);
    }

    private static void Append(ReadOnlySpan<byte> bytes, byte[] into, ref int length)
    {
        bytes.CopyTo(into.AsSpan(length));
        length += bytes.Length;
    }

    /// <summary>The index of the first '&lt;' at or after <paramref name="from"/>, or -1.</summary>
    private static int NextTag(ReadOnlySpan<byte> markup, int from)
    {
        var lt = markup[from..].IndexOf((byte)'<');
        return lt < 0 ? -1 : from + lt;
    }

    /// <summary>
    /// The length of the comment, CDATA section or processing instruction at the start of <paramref name="markup"/>
    /// (a '&lt;'); 0 for a tag; -1 for another declaration (a DOCTYPE) or one that is cut off.
    /// </summary>
    private static int Special(ReadOnlySpan<byte> markup)
    {
        ReadOnlySpan<byte> end = markup.StartsWith("<!--"u8) ? "-->"u8 : markup.StartsWith("<![CDATA["u8) ? "]]>"u8 : markup.StartsWith("<?"u8) ? "?>"u8 : default;
        if (end.IsEmpty)
        {
            return markup.StartsWith("<!"u8) ? -1 : 0;
        }

        var at = markup[2..].IndexOf(end);
        return at < 0 ? -1 : 2 + at + end.Length;
    }

    /// <summary>True when <paramref name="name"/> starts with the unprefixed name annotationSet, as a whole name.</summary>
    private static bool IsAnnotationSet(ReadOnlySpan<byte> name) =>
        name.StartsWith("annotationSet"u8) && name.Length > 13 && name[13] is (byte)'>' or (byte)'/' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>
    /// Where the annotationSet element whose start tag begins at <paramref name="open"/> ends (the index after its end
    /// tag), or -1 when it is empty, holds a DOCTYPE-like declaration or is cut off. The element ends at the end tag
    /// that balances the start tags of that name; comments, CDATA sections and processing instructions are stepped
    /// over whole.
    /// </summary>
    internal static int ElementEnd(ReadOnlySpan<byte> markup, int open)
    {
        var depth = 0;
        var at = open;
        while (true)
        {
            var rest = markup[at..];
            var special = Special(rest);
            if (special < 0)
            {
                return -1;
            }

            var closing = special == 0 && rest.Length > 1 && rest[1] == '/';
            if (special == 0 && IsAnnotationSet(rest[(closing ? 2 : 1)..]))
            {
                var tagEnd = closing ? rest.IndexOf((byte)'>') : StartTagEnd(rest);
                var empty = !closing && tagEnd > 0 && rest[tagEnd - 1] == '/';
                if (tagEnd < 0 || (empty && at == open))
                {
                    return -1; // cut off, or an empty element (nothing to gain)
                }

                depth += closing ? -1 : empty ? 0 : 1;
                if (depth == 0)
                {
                    return at + tagEnd + 1;
                }
            }

            at = NextTag(markup, at + Math.Max(special, 1));
            if (at < 0)
            {
                return -1;
            }
        }
    }

    /// <summary>The index of the '&gt;' that ends the start tag at the beginning of <paramref name="tag"/> (attribute values may hold '&gt;').</summary>
    private static int StartTagEnd(ReadOnlySpan<byte> tag)
    {
        byte quote = 0;
        for (var i = 1; i < tag.Length; i++)
        {
            var b = tag[i];
            if (quote != 0)
            {
                quote = b == quote ? (byte)0 : quote;
            }
            else if (b is (byte)'"' or (byte)'\'')
            {
                quote = b;
            }
            else if (b == '>')
            {
                return i;
            }
        }

        return -1;
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
