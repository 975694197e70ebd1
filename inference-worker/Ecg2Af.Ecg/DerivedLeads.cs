namespace Ecg2Af.Ecg;

/// <summary>The 12-lead view of a recording, for display: III, aVR, aVL and aVF added from I and II when absent.</summary>
public static class DerivedLeads
{
    /// <summary>Returns the recording with the derivable limb leads it lacks, and which leads were added.</summary>
    public static (EcgRecording Recording, IReadOnlyList<string> Derived) Complete(EcgRecording recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var leads = new Dictionary<string, float[]>(recording.Leads, StringComparer.Ordinal);
        var derived = EcgPreprocessor.DeriveLimbLeads(leads, Leads.Standard12);
        return derived.Count == 0 ? (recording, derived) : (new EcgRecording
        {
            Format = recording.Format,
            SampleRateHz = recording.SampleRateHz,
            Leads = leads,
            RecordName = recording.RecordName,
            Warnings = recording.Warnings,
            QualityFlags = recording.QualityFlags,
            QuantizationStepMv = recording.QuantizationStepMv,
        }, derived);
    }
}
