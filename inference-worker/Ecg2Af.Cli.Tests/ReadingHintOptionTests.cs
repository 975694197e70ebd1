using System.Text.Json.Nodes;
using Ecg2Af.Ecg;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.LocalCluster;
using Xunit.Abstractions;

namespace Ecg2Af.Cli.Tests;

/// <summary>
/// The CLI's reading hints, named as the API's form fields: <c>--sample-rate</c> (<c>--sample-rate-hz</c>) for a file
/// that states no rate and <c>--allow-flat-leads</c> for a record with flat chest leads, locally and through a real
/// gateway, and on <c>preprocess</c>. Without them both records are refused with a message that names the option.
/// </summary>
public sealed class ReadingHintOptionTests(CliFixture fixture, ITestOutputHelper output) : IClassFixture<CliFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Predict_NpyWithoutRateAndEdfWithFlatChestLeads_RefusedNamingTheOptions_ScoredWithThem_LocallyAndRemotely()
    {
        var work = fixture.Scratch();
        WriteInputs(Path.Combine(work, "in"));

        var refused = await CliProcess.RunAsync(work, Limit, "predict", "in", "--models", fixture.Models, "--out", "refused.jsonl");
        var local = await CliProcess.RunAsync(work, Limit, "predict", "in", "--models", fixture.Models, "--out", "local.jsonl",
            "--sample-rate-hz", "1000", "--allow-flat-leads");
        await using var cluster = await fixture.StartClusterAsync(work);
        var remote = await CliProcess.RunAsync(work, Limit, "predict", "in", "--url", cluster.GatewayUrl.ToString(), "--name", "Cli Tester",
            "--email", "cli@example.org", "--api-key", cluster.ApiKey.Key, "--out", "remote.jsonl", "--sample-rate", "1000", "--allow-flat-leads");
        output.WriteLine(refused.Stderr + local.Stderr + remote.Stderr);

        Assert.Equal(1, refused.ExitCode);
        var no = Rows(work, "refused.jsonl");
        Assert.Equal(422, (int)no["in/contec"]["status"]!);
        Assert.Contains("Leads V1, V2, V3, V4, V5, V6 are flat", Detail(no["in/contec"]), StringComparison.Ordinal);
        Assert.Contains("--allow-flat-leads", Detail(no["in/contec"]), StringComparison.Ordinal);
        Assert.Equal(422, (int)no["in/js-1khz"]["status"]!);
        Assert.Contains("10000 samples per lead", Detail(no["in/js-1khz"]), StringComparison.Ordinal);
        Assert.Contains("--sample-rate", Detail(no["in/js-1khz"]), StringComparison.Ordinal);
        foreach (var (run, file) in new[] { (local, "local.jsonl"), (remote, "remote.jsonl") })
        {
            Assert.Equal(0, run.ExitCode);
            var rows = Rows(work, file);
            Assert.All(rows.Values, r => Assert.Equal(200, (int)r["status"]!));
            Assert.Contains("scored_with_flat_leads:V1,V2,V3,V4,V5,V6", Strings(rows["in/contec"]));
            Assert.Contains("resampled:1000Hz->500Hz", Strings(rows["in/js-1khz"]));
            Assert.DoesNotContain(Strings(rows["in/js-1khz"]), f => f.StartsWith("sample_rate_assumed", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Preprocess_FlatChestLeadsAndNpyWithoutRate_RefusedUnlessTheOptionsAreGiven()
    {
        var work = fixture.Scratch();
        WriteInputs(work);

        var flat = await CliProcess.RunAsync(work, Limit, "preprocess", "contec.edf", "--models", fixture.Models);
        var flatAllowed = await CliProcess.RunAsync(work, Limit, "preprocess", "contec.edf", "--models", fixture.Models, "--allow-flat-leads");
        var npy = await CliProcess.RunAsync(work, Limit, "preprocess", "js-1khz.npy", "--stage", "mv");
        var npyWithRate = await CliProcess.RunAsync(work, Limit, "preprocess", "js-1khz.npy", "--stage", "mv", "--sample-rate", "1000");

        Assert.Equal(1, flat.ExitCode);
        Assert.Contains("Unusable: Leads V1, V2, V3, V4, V5, V6 are flat", flat.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, flatAllowed.ExitCode);
        var prepared = JsonNode.Parse(flatAllowed.Stdout)!;
        Assert.Equal(5000, prepared["data"]!.AsArray().Count);
        Assert.Contains("scored_with_flat_leads:V1,V2,V3,V4,V5,V6", prepared["quality_flags"]!.AsArray().Select(f => (string)f!));
        Assert.Equal(1, npy.ExitCode);
        Assert.Contains("sample_rate_hz", npy.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, npyWithRate.ExitCode);
        Assert.Equal(1000, (double)JsonNode.Parse(npyWithRate.Stdout)!["sample_rate_hz"]!);
    }

    /// <summary>The Contec EDF (800 Hz, V1–V6 all zero) and JS00001 at 1 kHz (every sample twice) as a rate-less NPY.</summary>
    private static void WriteInputs(string folder)
    {
        Directory.CreateDirectory(folder);
        File.Copy(RepositoryLayout.SharedFile("ecg-samples", "edf", "0000050.ECG.edf"), Path.Combine(folder, "contec.edf"));
        var js = EcgReader.Read(
            [
                new EcgFile("JS00001.hea", File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb-challenge-mat", "JS00001.hea"))),
                new EcgFile("JS00001.mat", File.ReadAllBytes(RepositoryLayout.SharedFile("ecg-samples", "wfdb-challenge-mat", "JS00001.mat"))),
            ]);
        var doubled = js.Leads.ToDictionary(kv => kv.Key, kv => kv.Value.SelectMany(v => new[] { v, v }).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "js-1khz.npy"), NpyWriter.Write(doubled, NpyWriter.Layout.SamplesByLeadsFloat32));
    }

    private static Dictionary<string, JsonNode> Rows(string work, string file) =>
        File.ReadAllLines(Path.Combine(work, file)).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!)
            .ToDictionary(n => (string)n["record"]!, n => n, StringComparer.Ordinal);

    /// <summary>Every string value in the row (its quality flags among them), unescaped.</summary>
    private static List<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => [.. o.SelectMany(p => Strings(p.Value))],
        JsonArray a => [.. a.SelectMany(Strings)],
        JsonValue v when v.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    private static string Detail(JsonNode row) => row["error"]?["detail"]?.ToString() ?? row.ToJsonString();
}
