namespace Ecg2Af.Ecg;

/// <summary>Why a file could not be used. Hosts map each kind to one HTTP status.</summary>
public enum EcgErrorKind
{
    /// <summary>The bytes are not a valid file of the detected format (400).</summary>
    Malformed,

    /// <summary>The file is larger than allowed, or declares or decompresses to more than allowed (413).</summary>
    TooLarge,

    /// <summary>Not a format this service reads (415). The message names what was expected.</summary>
    UnsupportedFormat,

    /// <summary>A readable ECG that the model cannot use: too short, leads missing, bad values (422).</summary>
    Unusable,
}

/// <summary>The one exception ECG readers and the preprocessor throw for bad input.</summary>
public sealed class EcgFormatException : Exception
{
    public EcgFormatException(EcgErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    public EcgErrorKind Kind { get; }
}
