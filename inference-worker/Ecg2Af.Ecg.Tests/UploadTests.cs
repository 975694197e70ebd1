using System.IO.Compression;
using System.Text;
using Ecg2Af.Ecg.Tests.Support;

namespace Ecg2Af.Ecg.Tests;

/// <summary>Upload packaging (one file, record parts, zip, gzip), format sniffing that ignores names, batch splitting, size caps.</summary>
public sealed class UploadTests
{
    [Theory]
    [InlineData("hl7-aecg/Example_aECG.xml", "hl7-aecg")]
    [InlineData("dicom/Example.dcm", "dicom-ecg")]
    [InlineData("muse-xml/braveheart_example1.xml", "ge-muse-xml")]
    [InlineData("edf/0000050.ECG.edf", "edf")]
    [InlineData("csv/ECG_12L.csv", "csv")]
    [InlineData("scp-ecg/Example.scp", "scp-ecg")]
    [InlineData("philips-xml/deid_3.xml", "philips-xml")]
    public void Read_FileWithMisleadingName_IsSniffedByContent(string sample, string format)
    {
        var recording = EcgReader.Read([new EcgFile("upload.npy", SharedSamples.Bytes(sample))]);

        Assert.Equal(format, recording.Format);
    }

    [Theory]
    [InlineData("%PDF-1.7\n...", "PDF")]
    [InlineData("<?xml version=\"1.0\"?><CardiologyXML/>", "CardioSoft")]
    [InlineData("<?xml version=\"1.0\"?><html><body/></html>", "<html>")]
    public void Read_OtherDocuments_AreRefusedSayingWhatTheyAre(string content, string named)
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("x.xml", Encoding.ASCII.GetBytes(content))]));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EmptyUploadOrEmptyFile_IsMalformed()
    {
        Assert.Equal(EcgErrorKind.Malformed, Assert.Throws<EcgFormatException>(() => EcgReader.Read([])).Kind);
        Assert.Equal(EcgErrorKind.Malformed, Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("a.dat", Array.Empty<byte>())])).Kind);
    }

    [Fact]
    public void Read_LoneWfdbSignalFile_AsksForItsHeader()
    {
        var ex = Assert.Throws<EcgFormatException>(() => SharedSamples.Read("wfdb/muse-af.dat"));

        Assert.Equal(EcgErrorKind.UnsupportedFormat, ex.Kind);
        Assert.Contains(".hea", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ZipOfOneWfdbRecordWithArchiverJunk_ReadsTheRecord()
    {
        var zip = Zip(("rec/JS00001.hea", SharedSamples.Bytes("wfdb-challenge-mat/JS00001.hea")),
            ("rec/JS00001.mat", SharedSamples.Bytes("wfdb-challenge-mat/JS00001.mat")),
            ("__MACOSX/rec/._JS00001.hea", [0, 5, 22, 7]),
            ("rec/.DS_Store", [0, 0, 0, 1]));

        var recording = EcgReader.Read([new EcgFile("upload.zip", zip)]);

        Assert.Equal("JS00001", recording.RecordName);
        Assert.Equal(12, recording.Leads.Count);
    }

    [Fact]
    public void Read_GzipWrappedFile_IsUnwrapped()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(SharedSamples.Bytes("muse-xml/muse-sinus.xml"));
        }

        Assert.Equal("ge-muse-xml", EcgReader.Read([new EcgFile("muse.xml.gz", buffer.ToArray())]).Format);
    }

    [Fact]
    public void Read_ZipOfSeveralRecords_AsksForOneRecordPerRequest()
    {
        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("batch.zip", BatchZip())]));

        Assert.Equal(EcgErrorKind.Malformed, ex.Kind);
        Assert.Contains("batch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SplitRecords_ZipOfManyRecords_GroupsWfdbFilesByRecordAndKeepsOthersApart()
    {
        var groups = EcgUpload.SplitRecords([new EcgFile("batch.zip", BatchZip())]);

        Assert.Equal(
            ["JS00001", "a/muse-af", "b/muse-af", "notes", "sinus"],
            groups.Select(g => g.Name).Order(StringComparer.Ordinal));
        Assert.Equal(3, groups.Single(g => g.Name == "a/muse-af").Files.Count); // .hea, .dat and .atr
        var readable = groups.Where(g => g.Name != "notes").Select(g => EcgReader.Read(g.Files)).ToList();
        Assert.Equal(4, readable.Count);
        Assert.Equal(SharedSamples.Read("wfdb/muse-af.hea", "wfdb/muse-af.dat").Leads["V3"], EcgReader.Read(groups.Single(g => g.Name == "b/muse-af").Files).Leads["V3"]);
        Assert.Throws<EcgFormatException>(() => EcgReader.Read(groups.Single(g => g.Name == "notes").Files));
    }

    [Fact]
    public void Read_UploadOverTheSizeCap_IsTooLarge()
    {
        var ex = Assert.Throws<EcgFormatException>(() => SharedSamples.Read(new EcgReadOptions { MaxUploadBytes = 100_000 }, "hl7-aecg/Example_aECG.xml"));

        Assert.Equal(EcgErrorKind.TooLarge, ex.Kind);
    }

    [Fact]
    public void Read_ZipBomb_IsTooLargeWithoutInflatingIt()
    {
        var zip = Zip(("bomb.csv", new byte[64 << 20]));
        // Memory, not time, shows it was not inflated (a clock limit fails on a loaded machine): far under the 64 MiB.
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("bomb.zip", zip)], new EcgReadOptions { MaxDecompressedBytes = 1 << 20 }));

        Assert.True(zip.Length < 200_000);
        Assert.Equal(EcgErrorKind.TooLarge, ex.Kind);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 16 << 20);
    }

    [Fact]
    public void Read_ZipEntryLyingAboutItsSize_NeverYieldsMoreThanTheCap()
    {
        var zip = Zip(("bomb.csv", new byte[8 << 20]));
        // Declare 100 bytes in the local header (offset 22) and in the central directory entry (offset 24 after its signature).
        BitConverter.TryWriteBytes(zip.AsSpan(22), 100u);
        var central = zip.AsSpan().IndexOf("PK\u0001\u0002"u8);
        BitConverter.TryWriteBytes(zip.AsSpan(central + 24), 100u);
        var options = new EcgReadOptions { MaxDecompressedBytes = 1 << 20 };

        // Either the archive layer stops at the declared size or the bounded copy stops at the cap: never 8 MiB.
        try
        {
            var parts = Formats.Archive.Expand([new EcgFile("liar.zip", zip)], options);
            Assert.InRange(parts.Sum(p => (long)p.Content.Length), 0, options.MaxDecompressedBytes);
        }
        catch (EcgFormatException ex)
        {
            Assert.True(ex.Kind is EcgErrorKind.TooLarge or EcgErrorKind.Malformed, ex.Kind.ToString());
        }

        Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("liar.zip", zip)], options));
    }

    [Fact]
    public void Read_GzipBomb_IsTooLarge()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(new byte[16 << 20]);
        }

        var ex = Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("x.gz", buffer.ToArray())], new EcgReadOptions { MaxDecompressedBytes = 1 << 20 }));

        Assert.Equal(EcgErrorKind.TooLarge, ex.Kind);
    }

    [Fact]
    public void Read_TooManyZipEntries_IsTooLarge()
    {
        var zip = Zip([.. Enumerable.Range(0, 50).Select(i => ($"f{i}.txt", new byte[] { 1 }))]);

        Assert.Equal(EcgErrorKind.TooLarge, Assert.Throws<EcgFormatException>(() => EcgReader.Read([new EcgFile("many.zip", zip)], new EcgReadOptions { MaxArchiveEntries = 10 })).Kind);
    }

    private static byte[] BatchZip() => Zip(
        ("a/muse-af.hea", SharedSamples.Bytes("wfdb/muse-af.hea")),
        ("a/muse-af.dat", SharedSamples.Bytes("wfdb/muse-af.dat")),
        ("a/muse-af.atr", [1, 2, 3]),
        ("b/muse-af.hea", SharedSamples.Bytes("wfdb/muse-af.hea")),
        ("b/muse-af.dat", SharedSamples.Bytes("wfdb/muse-af.dat")),
        ("JS00001.mat", SharedSamples.Bytes("wfdb-challenge-mat/JS00001.mat")),
        ("JS00001.hea", SharedSamples.Bytes("wfdb-challenge-mat/JS00001.hea")),
        ("sinus.xml", SharedSamples.Bytes("muse-xml/muse-sinus.xml")),
        ("notes.txt", Encoding.ASCII.GetBytes("Batch of three ECGs.\n")));

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }
}
