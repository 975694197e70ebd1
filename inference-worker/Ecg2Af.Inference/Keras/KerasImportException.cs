namespace Ecg2Af.Inference.Keras;

/// <summary>A Keras file that cannot be imported: unsupported layer or option, missing weights, or a malformed file.</summary>
public sealed class KerasImportException : Exception
{
    public KerasImportException()
    {
    }

    public KerasImportException(string message)
        : base(message)
    {
    }

    public KerasImportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
