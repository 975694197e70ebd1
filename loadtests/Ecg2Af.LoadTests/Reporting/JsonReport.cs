using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ecg2Af.LoadTests.Reporting;

/// <summary>The report as JSON (snake_case), for scripts and for comparing runs.</summary>
public static class JsonReport
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Render(RunReport report) => JsonSerializer.Serialize(report, Options);

    public static RunReport? Parse(string json) => JsonSerializer.Deserialize<RunReport>(json, Options);
}
