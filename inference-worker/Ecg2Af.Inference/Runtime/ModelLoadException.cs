namespace Ecg2Af.Inference.Runtime;

/// <summary>A model that cannot serve: unreadable, not matching its signature, or on a provider that was required but is missing.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
