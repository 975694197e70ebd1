using System.Net;
using System.Text.Json.Nodes;
using Ecg2Af.LocalCluster;
using Ecg2Af.Worker.Tests.Serving;

namespace Ecg2Af.Worker.Tests.Batch;

/// <summary>
/// The request hints that replace silent assumptions, through a real worker: <c>sample_rate_hz</c> for a file without a
/// rate (single endpoint as a form field, batch as a query parameter) and <c>allow_flat_leads</c> for a record with flat chest leads.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class ReadingHintTests(BatchWorkerFixture fixture) : IClassFixture<BatchWorkerFixture>
{
    private HttpClient Client => fixture.Worker.Client;

    [Fact]
    public async Task Predict_ContecEdfWithFlatChestLeads_Is422NamingThem_AndScoredWithALoudFlagWhenAllowed()
    {
        var edf = File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "edf", "0000050.ECG.edf"));

        using var refused = await Client.PostAsync("/api/v1/predictions", BatchWorkerFixture.Form([("contec.edf", edf)]));
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        using var allowedForm = BatchWorkerFixture.Form([("contec.edf", edf)]);
        allowedForm.Add(new StringContent("true"), "allow_flat_leads");
        using var allowed = await Client.PostAsync("/api/v1/predictions", allowedForm);
        var body = await allowed.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("Leads V1, V2, V3, V4, V5, V6 are flat", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Contains("allow_flat_leads", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Contains("scored_with_flat_leads:V1,V2,V3,V4,V5,V6", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_NpyWithoutRate_ItemAsksForSampleRateHz_AndTheQueryParameterScoresIt()
    {
        var npy = NpyAt1kHz();

        using var without = await Client.PostAsync("/api/v1/predictions:batch", BatchWorkerFixture.Form([("a.npy", npy)]));
        var item = JsonNode.Parse(await without.Content.ReadAsStringAsync())!.AsArray().Single()!;
        using var with = await Client.PostAsync("/api/v1/predictions:batch?sample_rate_hz=1000", BatchWorkerFixture.Form([("a.npy", npy)]));
        var scored = JsonNode.Parse(await with.Content.ReadAsStringAsync())!.AsArray().Single()!;

        Assert.Equal(422, (int)item["status"]!);
        Assert.Contains("sample_rate_hz", (string)item["error"]!["detail"]!, StringComparison.Ordinal);
        Assert.Equal(200, (int)scored["status"]!);
        Assert.DoesNotContain("sample_rate_assumed", scored.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_NpyWithoutRate_Is422AskingForSampleRateHz_AndTheFormFieldScoresIt()
    {
        var npy = NpyAt1kHz();

        using var without = await Client.PostAsync("/api/v1/predictions", BatchWorkerFixture.Form([("a.npy", npy)]));
        var problem = JsonNode.Parse(await without.Content.ReadAsStringAsync())!;
        using var form = BatchWorkerFixture.Form([("a.npy", npy)]);
        form.Add(new StringContent("1000"), "sample_rate_hz");
        using var with = await Client.PostAsync("/api/v1/predictions", form);
        var scored = JsonNode.Parse(await with.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.UnprocessableEntity, without.StatusCode);
        Assert.Contains("10000 samples per lead", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Contains("sample_rate_hz", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal(1000, (double)scored["input"]!["source_sample_rate_hz"]!);
        Assert.Equal(10, (double)scored["input"]!["source_duration_s"]!);
    }

    /// <summary>JS00001 (µV int16 in its Challenge .mat) with every frame repeated: [10000, 12] float32 mV, as a 1 kHz recorder gives it.</summary>
    private static byte[] NpyAt1kHz()
    {
        var mat = File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb-challenge-mat", "JS00001.mat"));
        var frames = (mat.Length - 24) / 24;
        var header = ("{'descr': '<f4', 'fortran_order': False, 'shape': (" + (2 * frames) + ", 12), }").PadRight(117) + "\n";
        using var buffer = new MemoryStream();
        buffer.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
        buffer.Write(System.Text.Encoding.ASCII.GetBytes(header));
        for (var t = 0; t < frames; t++)
        {
            for (var repeat = 0; repeat < 2; repeat++)
            {
                for (var lead = 0; lead < 12; lead++)
                {
                    buffer.Write(BitConverter.GetBytes(BitConverter.ToInt16(mat, 24 + (2 * ((t * 12) + lead))) / 1000f));
                }
            }
        }

        return buffer.ToArray();
    }
}
