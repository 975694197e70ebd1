namespace Ecg2Af.Security;

/// <summary>What a key may do. A key holds one or more scopes.</summary>
public static class ApiKeyScopes
{
    /// <summary>Predictions: OIP infer (REST and gRPC), preprocess, batch and programmatic single predictions.</summary>
    public const string Predict = "predict";

    /// <summary>The audit API (queries and erasure).</summary>
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [Predict, Admin];
}
