using System.Globalization;
using System.Xml;

namespace Ecg2Af.Ecg.Formats;

/// <summary>
/// The one way this library opens XML: a DOCTYPE is skipped, never processed (MUSE files carry one), no resolver
/// (no external entities, no network), and a cap on the characters read.
/// </summary>
internal static class SafeXml
{
    public static XmlReader Open(ReadOnlyMemory<byte> content, EcgReadOptions options) =>
        XmlReader.Create(Streams.Open(content), new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            MaxCharactersFromEntities = 1024,
            MaxCharactersInDocument = Math.Max(1, options.MaxDecompressedBytes),
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
            CloseInput = true,
        });

    /// <summary>The local name of the root element, or null when the bytes are not well-formed XML up to that point.</summary>
    public static string? RootName(ReadOnlyMemory<byte> content, EcgReadOptions options)
    {
        try
        {
            using var reader = Open(content, options);
            return reader.MoveToContent() == XmlNodeType.Element ? reader.LocalName : null;
        }
        catch (XmlException)
        {
            return null;
        }
    }

    public static double ParseDouble(string? text, string what)
    {
        // Some MUSE writers use a decimal comma ("4,88").
        var t = text?.Trim().Replace(',', '.');
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new EcgFormatException(EcgErrorKind.Malformed, $"{what} is not a number ('{Clip(text)}').");
    }

    public static long ParseLong(string? text, string what) =>
        long.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new EcgFormatException(EcgErrorKind.Malformed, $"{what} is not an integer ('{Clip(text)}').");

    public static string Clip(string? text) =>
        text is null ? "" : text.Length <= 40 ? text : text[..40] + "…";
}
