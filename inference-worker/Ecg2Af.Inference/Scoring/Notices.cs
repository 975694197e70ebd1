namespace Ecg2Af.Inference.Scoring;

/// <summary>The caveats every response and page carries.</summary>
public static class Notices
{
    public const string StandIn =
        "STAND-IN MODEL: these numbers come from seeded placeholder weights with the ECG2AF input and output contract, " +
        "not from the published ECG2AF weights. They are not clinically meaningful and must not be used for any decision.";

    public const string Imported =
        "Research use only: imported model weights, not a medical device and not validated for clinical decisions on this service.";

    public static string For(ModelSignature signature) =>
        signature.Provenance.Weights == Provenance.StandIn ? StandIn : Imported;
}
