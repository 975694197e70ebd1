using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Ecg2Af.Ecg.Tests.Fixtures;
using Ecg2Af.Ecg.Tests.Support;
using Xunit.Abstractions;

namespace Ecg2Af.Ecg.Tests;

/// <summary>
/// Mutates every sample (and the fixtures written from them) and feeds the result through
/// <see cref="EcgReader.Read(IReadOnlyList{EcgFile}, EcgReadOptions?)"/> and <see cref="EcgPreprocessor.Prepare(EcgRecording, InputSpec, EcgReadOptions?)"/>:
/// the only exception allowed out is <see cref="EcgFormatException"/>. Seeded, so every run tries the same cases.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int CasesPerSeed = 600;
    private const int Seed = 20_261_127;

    /// <summary>
    /// A fuzz seed: its files (one of them mutated per case), the request options it needs, and whether the unmutated
    /// seed gets through preparation too (MIT-BIH 100 and the Contec CSV lack leads the model needs).
    /// </summary>
    private sealed record FuzzSeed(string Name, Func<EcgFile[]> Files, EcgReadOptions? Options = null, bool Prepares = true, int Cases = CasesPerSeed);

    private static readonly Lazy<EcgRecording> Js = new(() => SharedSamples.Read("wfdb-challenge-mat/JS00001.hea", "wfdb-challenge-mat/JS00001.mat"));

    private static readonly FuzzSeed[] Seeds =
    [
        new("wfdb-16", () => SharedSamples.Wfdb("wfdb/muse-af")),
        new("wfdb-16-100Hz", () => SharedSamples.Wfdb("wfdb/00001_lr")),
        new("wfdb-challenge-mat", () => SharedSamples.Wfdb("wfdb-challenge-mat/JS00001", ".mat")),
        // MIT-BIH 100 cut to 20000 frames so that each case stays fast; the header says so.
        new("wfdb-212", () =>
        [
            new("100.hea", Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(SharedSamples.Bytes("wfdb/100.hea")).Replace("650000", "20000", StringComparison.Ordinal))),
            new("100.dat", SharedSamples.Bytes("wfdb/100.dat")[..60_000]),
        ], Prepares: false),
        new("muse-xml", () => [SharedSamples.File("muse-xml/muse-sinus.xml")]),
        new("muse-xml-braveheart", () => [SharedSamples.File("muse-xml/braveheart_example1.xml")]),
        new("hl7-aecg", () => [SharedSamples.File("hl7-aecg/Example_aECG.xml")]),
        new("dicom-implicit", () => [SharedSamples.File("dicom/Example.dcm")]),
        new("dicom-explicit", () => [new("x.dcm", DicomWriter.Write(Js.Value.Leads, 0.001, 500))]),
        // 800 Hz: every readable case is also downsampled, the costliest preparation, so fewer cases.
        new("edf", () => [new("x.edf", ContecEdf())], new EcgReadOptions { AllowFlatLeads = true }, Cases: 300),
        new("bdf-edfplus", () => [new("x.bdf", EdfWriter.Write([.. Leads.Standard12.Select(l => new EdfWriter.Signal(l, Js.Value.Leads[l]))], 500, bdf: true, reserved: "EDF+C", annotations: 20))]),
        new("csv-preamble", () => [SharedSamples.File("csv/ECG_12L.csv")]),
        new("csv-headerless", () => [new("c.csv", FirstLines("csv/0000050.ECG.csv", 2000))], new EcgReadOptions { LeadOrder = Leads.Standard12, SampleRateHz = 800 }, Prepares: false),
        new("scp-ecg", () => [SharedSamples.File("scp-ecg/Example.scp")]),
        new("philips-xml-1.03", () => [SharedSamples.File("philips-xml/129DYPRG.XML")]),
        // UTF-8 1.04 whose XLI chunks 13-16 are garbage (never decoded).
        new("philips-xml-garbage-chunks", () => [SharedSamples.File("philips-xml/deid_3.xml")]),
        new("npy", () => [new("x.npy", NpyWriter.Write(Js.Value.Leads, NpyWriter.Layout.SamplesByLeadsFloat32))]),
        new("hdf5-ukb", () => [new("u.hd5", Ml4hHdf5Writer.WriteUkb(Js.Value.Leads))]),
        new("hdf5-mgb", () => [new("m.hd5", Ml4hHdf5Writer.WriteMgb(new Dictionary<string, IReadOnlyDictionary<string, float[]>>
        {
            ["2019-05-01T08:30:00"] = Js.Value.Leads,
            ["2020-05-01T08:30:00"] = Js.Value.Leads,
        }))]),
        new("zip-wfdb", () => [new("r.zip", Zip(("JS00001.hea", SharedSamples.Bytes("wfdb-challenge-mat/JS00001.hea")), ("JS00001.mat", SharedSamples.Bytes("wfdb-challenge-mat/JS00001.mat"))))]),
    ];

    public static TheoryData<string> SeedNames => [.. Seeds.Select(s => s.Name)];

    [Fact]
    public void Seeds_AllTogether_GiveAtLeast10000CasesPerRun()
    {
        Assert.InRange(Seeds.Sum(s => s.Cases), 10_000, 12_000);
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void Read_MutatedFiles_ThrowOnlyEcgFormatException(string seedName)
    {
        var seedIndex = Array.FindIndex(Seeds, s => s.Name == seedName);
        var seed = Seeds[seedIndex];
        var files = seed.Files();
        var donor = Seeds[(seedIndex + 1) % Seeds.Length].Files()[0].Content.ToArray();

        // The unmutated seed must be readable: otherwise the fuzzing proves little.
        var recording = EcgReader.Read(files, seed.Options);
        if (seed.Prepares)
        {
            EcgPreprocessor.Prepare(recording, InputSpec.Ecg2Af, seed.Options);
        }

        var failures = new ConcurrentBag<string>();
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var slowest = new ConcurrentBag<(double Ms, int Case)>();
        var watch = Stopwatch.StartNew();
        Parallel.For(0, seed.Cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, index =>
        {
            var random = new Random(HashCode.Combine(Seed, seedIndex, index) & int.MaxValue);
            var target = random.Next(files.Length);
            var (bytes, what) = Mutator.Mutate(files[target].Content.ToArray(), donor, random);
            var mutated = files.Select((f, i) => i == target ? f with { Content = bytes } : f).ToList();
            var caseWatch = Stopwatch.StartNew();
            try
            {
                var read = EcgReader.Read(mutated, seed.Options);
                EcgPreprocessor.Prepare(read, InputSpec.Ecg2Af, seed.Options);
                outcomes.AddOrUpdate("ok", 1, (_, n) => n + 1);
            }
            catch (EcgFormatException ex) when (ThrownByOurCode(ex.InnerException) is { } bug)
            {
                // The entry point wrapped it, but the bug is ours (an index out of range, a null...): fix the root cause.
                failures.Add($"case {index} ({what} in {files[target].FileName}): wrapped {bug.GetType().Name}: {bug.Message}\n{bug.StackTrace}");
            }
            catch (EcgFormatException ex)
            {
                outcomes.AddOrUpdate(ex.Kind.ToString(), 1, (_, n) => n + 1);
            }
            catch (Exception ex)
            {
                // The point of the test: any other exception type is a failure, recorded with how it was made.
                failures.Add($"case {index} ({what} in {files[target].FileName}): {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }

            slowest.Add((caseWatch.Elapsed.TotalMilliseconds, index));
        });

        var worst = slowest.MaxBy(s => s.Ms);
        output.WriteLine($"{seedName}: {seed.Cases} cases in {watch.ElapsedMilliseconds} ms, slowest case {worst.Case} {worst.Ms:0} ms; " +
            string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(failures.IsEmpty, $"{failures.Count} cases threw something else:\n{string.Join("\n\n", failures.Take(3))}");
    }

    /// <summary>
    /// The exception when its first frame outside the core library is in Ecg2Af.Ecg: our code failed on its own. Errors
    /// raised inside PureHDF, System.Xml, System.IO.Compression or ZstdSharp are the libraries judging hostile bytes,
    /// which the entry point is meant to report as Malformed.
    /// </summary>
    private static Exception? ThrownByOurCode(Exception? exception)
    {
        if (exception is null or OutOfMemoryException)
        {
            return null;
        }

        var core = typeof(object).Assembly;
        var origin = new StackTrace(exception, false).GetFrames()
            .Select(f => f.GetMethod()?.DeclaringType?.Assembly)
            .FirstOrDefault(a => a is not null && a != core);
        return origin == typeof(EcgReader).Assembly ? exception : null;
    }

    /// <summary>The Contec EDF cut to its first 8000 one-sample records (10 s), with the header's record count edited to match.</summary>
    private static byte[] ContecEdf()
    {
        var original = SharedSamples.Bytes("edf/0000050.ECG.edf");
        var bytes = original[..((256 * 13) + (8000 * 12 * 2))];
        Encoding.ASCII.GetBytes("8000    ").CopyTo(bytes, 236);
        return bytes;
    }

    private static byte[] FirstLines(string sample, int lines)
    {
        var text = Encoding.ASCII.GetString(SharedSamples.Bytes(sample));
        return Encoding.ASCII.GetBytes(string.Join('\n', text.Split('\n').Take(lines)));
    }

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }
}
