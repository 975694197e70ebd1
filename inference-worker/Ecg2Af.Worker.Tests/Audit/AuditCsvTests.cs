using Ecg2Af.Audit;

namespace Ecg2Af.Worker.Tests.Audit;

public class AuditCsvTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("-12.5", "-12.5")]
    [InlineData(null, "")]
    public void Cell_Text_QuotedAndDefused(string? value, string expected) => Assert.Equal(expected, AuditCsv.Cell(value));

    [Fact]
    public async Task WriteAsync_Record_OneRowInHeaderOrder()
    {
        var record = new AuditRecord
        {
            RequestId = "r1",
            Time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            Operation = "predict",
            Name = "Ann, B",
            Email = "ann@example.org",
            Files = [new AuditFile("a.xml", 3, "abc")],
            StatusCode = 200,
            LatencyMs = 12.3456,
        };
        using var writer = new StringWriter();

        await AuditCsv.WriteAsync(writer, [record]);

        var lines = writer.ToString().Split("\r\n");
        Assert.Equal(AuditCsv.Header, lines[0]);
        Assert.Equal(
            "r1,2026-01-02T03:04:05.000000Z,predict,,\"Ann, B\",ann@example.org,\"[{\"\"name\"\":\"\"a.xml\"\",\"\"size\"\":3,\"\"sha256\"\":\"\"abc\"\"}]\",,,,,,,,200,12.346,,",
            lines[1]);
    }
}
