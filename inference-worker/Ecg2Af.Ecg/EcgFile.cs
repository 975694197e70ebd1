namespace Ecg2Af.Ecg;

/// <summary>One uploaded file: its name as the client gave it (used for WFDB record grouping, never trusted for the format) and its bytes.</summary>
public sealed record EcgFile(string FileName, ReadOnlyMemory<byte> Content);
