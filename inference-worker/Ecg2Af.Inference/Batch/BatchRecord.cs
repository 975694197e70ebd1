using Ecg2Af.Ecg;

namespace Ecg2Af.Inference.Batch;

/// <summary>One record of a batch job: its position in the job, its unique name and its files.</summary>
public sealed record BatchRecord(int Index, string Name, IReadOnlyList<BatchFile> Files);

/// <summary>Turns the files of a batch into records, in upload order, as <see cref="EcgUpload.GroupRecords"/> groups them.</summary>
public static class BatchPlanner
{
    public static IReadOnlyList<BatchRecord> Plan(IReadOnlyList<BatchFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var plans = EcgUpload.GroupRecords(files.Select(f => new EcgFileEntry(f.Name, f.Header)).ToList());
        return plans.Select((p, i) => new BatchRecord(i, p.Name, p.Files.Select(f => files[f]).ToList())).ToList();
    }
}
