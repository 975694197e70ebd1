using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ecg2Af.LocalCluster;
using Microsoft.Playwright;

namespace Ecg2Af.Web.Tests;

/// <summary>
/// The web page in a real browser against the real gateway and worker: real ECG samples scored through the form show
/// exactly the API's numbers; bad input is explained next to its field; batch mode fills a table and a CSV.
/// </summary>
public sealed class WebFormTests(WebFixture fixture) : IClassFixture<WebFixture>, IDisposable
{
    private const string Name = "Web Test";
    private readonly List<string> _temporary = [];
    private const string Email = "web.test@example.org";

    public static TheoryData<string, string[]> Samples => new()
    {
        { "muse-xml", ["muse-xml/muse-sinus.xml"] },
        { "hl7-aecg", ["hl7-aecg/Example_aECG.xml"] },
        { "wfdb-pair", ["wfdb/muse-af.hea", "wfdb/muse-af.dat"] },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Submit_RealSample_PageShowsTheApiNumbers(string label, string[] samples)
    {
        var paths = samples.Select(SamplePath).ToArray();
        using var api = await PredictAsync(paths);
        var expected = api.RootElement;
        var result = expected.GetProperty("result");
        var model = expected.GetProperty("model");
        var page = await fixture.NewPageAsync();

        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.FillAsync("#api-key", fixture.Cluster.ApiKey.Key); // the ECG drawing needs a key
        await page.SetInputFilesAsync("#ecg", paths);
        await page.ClickAsync("#submit");
        await page.Locator("#result").WaitForAsync();
        await page.Locator("#ecg-plot polyline").Nth(12).WaitForAsync(); // 12 leads and the rhythm strip

        // The page ran under the gateway's CSP without a violation, and sent the ECG once: the plot came with the prediction.
        Assert.Equal(["/api/v1/predictions?include=leads_mv"], WebFixture.Posts(page));
        await WebFixture.AssertNoCspViolationsAsync(page);

        var risk = result.GetProperty("af_risk").GetProperty("probability").GetDouble();
        Assert.Equal(Pct(risk), await page.TextContentAsync("#af-risk"));
        Assert.Equal(risk, Number(await page.GetAttributeAsync("#af-risk", "data-value")));
        var inEcg = result.GetProperty("af_in_ecg_probability").GetDouble();
        Assert.Equal(Pct(inEcg), await page.TextContentAsync("#af-in-ecg"));
        Assert.Equal(inEcg, Number(await page.GetAttributeAsync("#af-in-ecg", "data-value")));
        Assert.Equal(inEcg >= 0.5, await page.IsVisibleAsync("#af-warning"));
        var sex = result.GetProperty("sex");
        Assert.Equal($"Female {Pct(sex.GetProperty("female").GetDouble())}, male {Pct(sex.GetProperty("male").GetDouble())}.",
            await page.TextContentAsync("#sex-detail"));
        var age = result.GetProperty("age_years").GetDouble();
        Assert.Equal($"{age.ToString("F1", CultureInfo.InvariantCulture)} years", await page.TextContentAsync("#age"));
        Assert.Equal(age, Number(await page.GetAttributeAsync("#age", "data-value")));

        var curve = result.GetProperty("survival_curve").EnumerateArray().ToList();
        Assert.Equal(curve.Count, await page.Locator("#curve-rows tr").CountAsync());
        Assert.Equal(Pct(curve[^1].GetProperty("af_free_probability").GetDouble()), await page.TextContentAsync("#curve-rows tr:last-child td:last-child"));
        Assert.Contains(Pct(curve[^1].GetProperty("af_free_probability").GetDouble()), await page.TextContentAsync("#curve-desc"), StringComparison.Ordinal);
        Assert.Equal("5", await page.TextContentAsync("#curve text.tick:text-is('5')"));

        var input = expected.GetProperty("input");
        Assert.Equal(input.GetProperty("format").GetString(), await Fact(page, "format"));
        Assert.Equal(Join(input.GetProperty("leads_derived"), ", ", "none"), await Fact(page, "leads-derived"));
        Assert.Equal(Join(result.GetProperty("quality_flags"), ", ", "none"), await Fact(page, "quality-flags"));
        Assert.StartsWith(input.GetProperty("resampled").GetBoolean() ? "yes" : "no", await Fact(page, "resampled"), StringComparison.Ordinal);
        Assert.Equal(model.GetProperty("name").GetString(), await Fact(page, "model-name"));
        Assert.Equal(model.GetProperty("version").GetString(), await Fact(page, "model-version"));
        Assert.Equal(model.GetProperty("execution_provider").GetString(), await Fact(page, "execution-provider"));
        Assert.Equal(model.GetProperty("sha256").GetString(), await Fact(page, "model-sha256"));

        // The stand-in is announced prominently, and its number is never given a clinical meaning.
        Assert.Equal("stand-in", model.GetProperty("weights").GetString());
        Assert.StartsWith("stand-in", await Fact(page, "model-weights"), StringComparison.Ordinal);
        Assert.True(await page.IsVisibleAsync("#standin-banner"));
        Assert.Equal(expected.GetProperty("notice").GetString(), await page.TextContentAsync("#standin-text"));
        Assert.Contains("says nothing about this person's risk", await page.TextContentAsync("#af-risk-meaning"), StringComparison.Ordinal);

        // Text alternatives for the charts.
        Assert.Equal("img", await page.GetAttributeAsync("#curve", "role"));
        Assert.Contains("12-lead ECG of record", await page.GetAttributeAsync("#ecg-plot", "aria-label"), StringComparison.Ordinal);
        Assert.Equal(["I", "aVR", "V1", "V4", "II", "aVL", "V2", "V5", "III", "aVF", "V3", "V6", "II (rhythm)"],
            await page.Locator("#ecg-plot text.ecg-label").AllTextContentsAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot($"result-{label}.png"), FullPage = true });

        // The printable report: the result and the stand-in notice, without the form.
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        Assert.False(await page.IsVisibleAsync("#predict-form"));
        Assert.True(await page.IsVisibleAsync("#standin-banner"));
        Assert.True(await page.IsVisibleAsync(".report-head"));
        Assert.Matches("^[0-9a-f]{32}$", await page.TextContentAsync("#report-id"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot($"report-{label}.png"), FullPage = true });
        var pdf = await page.PdfAsync(new PagePdfOptions { Path = Screenshot($"report-{label}.pdf"), PreferCSSPageSize = true, PrintBackground = true });
        Assert.StartsWith("%PDF", Encoding.ASCII.GetString(pdf, 0, 4), StringComparison.Ordinal);
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_OnPhoneWidth_ResultFitsWithoutSidewaysScrolling()
    {
        var page = await fixture.NewPageAsync(new ViewportSize { Width = 390, Height = 844 });
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.FillAsync("#api-key", fixture.Cluster.ApiKey.Key);
        await page.SetInputFilesAsync("#ecg", SamplePath("hl7-aecg/Example_aECG.xml"));
        await page.ClickAsync("#submit");
        await page.Locator("#ecg-plot polyline").Nth(12).WaitForAsync();

        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("result-phone.png"), FullPage = true });
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Drop_FileOnDropZone_SelectedAndScored()
    {
        var sample = SamplePath("muse-xml/muse-sinus.xml");
        var page = await fixture.NewPageAsync();
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        var dataTransfer = await page.EvaluateHandleAsync(
            """
            ([name, base64]) => {
              const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
              const transfer = new DataTransfer();
              transfer.items.add(new File([bytes], name));
              return transfer;
            }
            """,
            new object[] { "muse-sinus.xml", Convert.ToBase64String(await File.ReadAllBytesAsync(sample)) });

        await page.DispatchEventAsync("#drop-zone", "drop", new Dictionary<string, object> { ["dataTransfer"] = dataTransfer });

        Assert.Equal(["muse-sinus.xml (142.7 KiB)"], await page.Locator("#file-list li").AllTextContentsAsync());
        Assert.Equal(1, await page.EvaluateAsync<int>("document.getElementById('ecg').files.length"));
        await page.ClickAsync("#submit");
        await page.Locator("#result").WaitForAsync();
        Assert.Matches(@"^\d+\.\d%$", await page.TextContentAsync("#af-risk"));
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_BadEmailByKeyboard_MessageNextToEmailAndNothingSent()
    {
        var page = await fixture.NewPageAsync();
        var apiCalls = CountApiCalls(page);
        await page.SetInputFilesAsync("#ecg", SamplePath("muse-xml/muse-sinus.xml"));

        await page.FocusAsync("#name");
        await page.Keyboard.TypeAsync(Name);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("not-an-address");
        await page.Keyboard.PressAsync("Enter");

        await Expect(page, "#email-error", "Email must be a valid address such as name@example.org.");
        Assert.Equal("true", await page.GetAttributeAsync("#email", "aria-invalid"));
        Assert.Equal("email", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.Equal("", await page.TextContentAsync("#name-error"));
        Assert.Equal(0, apiCalls());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("validation-email.png") });
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_NoFile_MessageNextToEcgFieldAndNothingSent()
    {
        var page = await fixture.NewPageAsync();
        var apiCalls = CountApiCalls(page);
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);

        await page.ClickAsync("#submit");

        await Expect(page, "#ecg-error", "Attach an ECG file.");
        Assert.Equal("true", await page.GetAttributeAsync("#ecg", "aria-invalid"));
        Assert.Equal(0, apiCalls());
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_ImageInsteadOfEcg_RefusedInTheBrowserNextToEcgField()
    {
        var image = TempFile("scan.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        var page = await fixture.NewPageAsync();
        var apiCalls = CountApiCalls(page);
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.SetInputFilesAsync("#ecg", image);

        await page.ClickAsync("#submit");

        await Expect(page, "#ecg-error", "'scan.png' is a PNG image, not an ECG format this service reads.");
        Assert.Equal(0, apiCalls());
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_TextFileTheServerCannotRead_ServerReasonShownNextToEcgField()
    {
        var notes = TempFile("notes.txt", Encoding.UTF8.GetBytes("Shopping list: milk, eggs, bread.\n"));
        using var api = await PredictAsync([notes], expectSuccess: false);
        var page = await fixture.NewPageAsync();
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.SetInputFilesAsync("#ecg", notes);

        await page.ClickAsync("#submit");

        var problem = api.RootElement;
        await Expect(page, "#ecg-error", $"{problem.GetProperty("title").GetString()}: {problem.GetProperty("detail").GetString()}");
        Assert.False(await page.IsVisibleAsync("#result"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("validation-unsupported.png") });
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Batch_WithoutKey_MessageNextToKeyField_SingleEcgStillScoredWithoutKey()
    {
        var page = await fixture.NewPageAsync();
        await page.CheckAsync("input[name=mode][value=batch]");
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.SetInputFilesAsync("#ecg", SamplePath("muse-xml/muse-sinus.xml"));
        await page.ClickAsync("#submit");
        await page.WaitForFunctionAsync("() => document.querySelector('#api-key-error').textContent.startsWith('API key required')");
        Assert.Equal("true", await page.GetAttributeAsync("#api-key", "aria-invalid"));

        // The same person and file as one ECG: the web form needs no key (name and email identify the request).
        await page.CheckAsync("input[name=mode][value=single]");
        await page.ClickAsync("#submit");
        await page.Locator("#result").WaitForAsync();
        Assert.Matches(@"^\d+\.\d%$", await page.TextContentAsync("#af-risk"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_NpyWithoutRate_RefusalSaysHowToGiveIt_ThenTheRateFieldScoresIt()
    {
        var npy = TempFile("js-1khz.npy", NpyAt1kHz());
        using var api = await PredictAsync([npy], expectSuccess: false);
        var page = await fixture.NewPageAsync();
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.SetInputFilesAsync("#ecg", npy);

        await page.ClickAsync("#submit");

        // The API's own 422, word for word, next to the file field: it names sample_rate_hz.
        var problem = api.RootElement;
        Assert.Contains("sample_rate_hz", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Expect(page, "#ecg-error", $"{problem.GetProperty("title").GetString()}: {problem.GetProperty("detail").GetString()}");
        Assert.False(await page.IsVisibleAsync("#result"));

        await page.FillAsync("#sample_rate_hz", "1000");
        await page.ClickAsync("#submit");
        await page.Locator("#result").WaitForAsync();

        Assert.Contains("1000 Hz", await page.TextContentAsync("#result") ?? "", StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_ChestLeadsFlat_RefusalNamesThem_ThenTheCheckboxScoresItWithAWarning()
    {
        // JS00001 at its own 500 Hz with V1–V6 (columns 6–11) zeroed: electrodes off, as the model must not silently score.
        var npy = TempFile("js-no-chest.npy", JsAsNpy(repeat: 1, flatFrom: 6));
        var rate = new Dictionary<string, string> { ["sample_rate_hz"] = "500" };
        using var refused = await PredictAsync([npy], expectSuccess: false, rate);
        using var scored = await PredictAsync([npy], expectSuccess: true, new(rate) { ["allow_flat_leads"] = "true" });
        var page = await fixture.NewPageAsync();
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.SetInputFilesAsync("#ecg", npy);
        await page.FillAsync("#sample_rate_hz", "500");
        Assert.False(await page.IsCheckedAsync("#allow_flat_leads"));

        await page.ClickAsync("#submit");

        // Off by default: the API's 422 naming the leads, word for word, next to the file field; no result.
        var problem = refused.RootElement;
        Assert.Contains("V1, V2, V3, V4, V5, V6", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Expect(page, "#ecg-error", $"{problem.GetProperty("title").GetString()}: {problem.GetProperty("detail").GetString()}");
        Assert.False(await page.IsVisibleAsync("#result"));

        await page.CheckAsync("#allow_flat_leads");
        await page.ClickAsync("#submit");
        await page.Locator("#result").WaitForAsync();

        // Scored on request, with a warning above the numbers and the API's flag; the numbers are the API's.
        await Expect(page, "#flat-warning",
            "Scored with flat or missing leads (V1, V2, V3, V4, V5, V6): the model read zeros in their place, so these numbers are less reliable than for a complete ECG.");
        var result = scored.RootElement.GetProperty("result");
        Assert.Contains("scored_with_flat_leads:V1,V2,V3,V4,V5,V6",
            result.GetProperty("quality_flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains("scored_with_flat_leads:V1,V2,V3,V4,V5,V6", await Fact(page, "quality-flags"), StringComparison.Ordinal);
        var risk = result.GetProperty("af_risk").GetProperty("probability").GetDouble();
        Assert.Equal((risk * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%", await page.TextContentAsync("#af-risk"));
        await page.Context.CloseAsync();
    }

    /// <summary>JS00001 (500 Hz, µV int16 in its Challenge .mat) with every frame repeated: [10000, 12] float32 mV, as a 1 kHz recorder gives it.</summary>
    private static byte[] NpyAt1kHz() => JsAsNpy(repeat: 2, flatFrom: 12);

    /// <summary>JS00001 as a float32 mV <c>.npy</c>: each frame written <paramref name="repeat"/> times, leads from <paramref name="flatFrom"/> on as zeros.</summary>
    private static byte[] JsAsNpy(int repeat, int flatFrom)
    {
        var mat = File.ReadAllBytes(SamplePath("wfdb-challenge-mat/JS00001.mat"));
        var frames = (mat.Length - 24) / 24;
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + (repeat * frames).ToString(CultureInfo.InvariantCulture) + ", 12), }";
        header = header.PadRight(118 - 1) + "\n";
        using var buffer = new MemoryStream();
        buffer.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
        buffer.Write(Encoding.ASCII.GetBytes(header));
        for (var t = 0; t < frames; t++)
        {
            for (var copy = 0; copy < repeat; copy++)
            {
                for (var lead = 0; lead < 12; lead++)
                {
                    var mv = lead < flatFrom ? BitConverter.ToInt16(mat, 24 + (2 * ((t * 12) + lead))) / 1000f : 0f;
                    buffer.Write(BitConverter.GetBytes(mv));
                }
            }
        }

        return buffer.ToArray();
    }

    [Fact]
    public async Task Batch_FourRecords_TableAndCsvMatchTheApi()
    {
        var notes = TempFile("notes.txt", Encoding.UTF8.GetBytes("Shopping list: milk, eggs, bread.\n"));
        string[][] records =
        [
            [SamplePath("muse-xml/muse-sinus.xml")],
            [SamplePath("wfdb/muse-af.hea"), SamplePath("wfdb/muse-af.dat")],
            [SamplePath("hl7-aecg/Example_aECG.xml")],
            [notes],
        ];
        var expected = new List<double?>();
        foreach (var record in records)
        {
            using var one = await PredictAsync(record, expectSuccess: false);
            expected.Add(one.RootElement.TryGetProperty("result", out var r) ? r.GetProperty("af_risk").GetProperty("probability").GetDouble() : null);
        }

        var page = await fixture.NewPageAsync();
        await page.CheckAsync("input[name=mode][value=batch]");
        await page.FillAsync("#name", Name);
        await page.FillAsync("#email", Email);
        await page.FillAsync("#api-key", fixture.Cluster.ApiKey.Key);
        await page.SetInputFilesAsync("#ecg", records.SelectMany(r => r).ToArray());
        await page.ClickAsync("#submit");
        await page.Locator("#batch-result").WaitForAsync();

        var rows = page.Locator("#batch-rows tr");
        Assert.Equal(4, await rows.CountAsync());
        Assert.Equal(["muse-sinus", "muse-af", "Example_aECG", "notes"], await page.Locator("#batch-rows th").AllTextContentsAsync());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i], Number(await rows.Nth(i).Locator("td").Nth(2).GetAttributeAsync("data-value")));
            Assert.Equal(Pct(expected[i]!.Value), await rows.Nth(i).Locator("td").Nth(2).TextContentAsync());
        }

        Assert.StartsWith("Failed (", await rows.Nth(3).Locator("td").Nth(1).TextContentAsync(), StringComparison.Ordinal);
        Assert.True(await page.IsVisibleAsync("#batch-standin"));
        Assert.Equal("3 of 4 records scored.", await page.TextContentAsync("#batch-summary"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("batch.png"), FullPage = true });

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#csv-download"));
        var csv = (await File.ReadAllTextAsync((await download.PathAsync())!)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("ecg2af-batch.csv", download.SuggestedFilename);
        Assert.Equal(5, csv.Length);
        Assert.StartsWith("record,files,status,af_risk_5y,", csv[0], StringComparison.Ordinal);
        Assert.StartsWith("muse-af,muse-af.hea;muse-af.dat,200,", csv[2], StringComparison.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i], double.Parse(csv[i + 1].Split(',')[3], CultureInfo.InvariantCulture));
        }

        Assert.StartsWith("notes,notes.txt,415,", csv[4], StringComparison.Ordinal);
        await WebFixture.AssertNoCspViolationsAsync(page);
        await page.Context.CloseAsync();
    }

    private static string SamplePath(string relative) => RepositoryLayout.SharedFile(["ecg-samples", .. relative.Split('/')]);

    private static string Screenshot(string name) => Path.Combine(WebFixture.Screenshots, name);

    private static string Pct(double p) => (p * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static double? Number(string? text) => text is null ? null : double.Parse(text, CultureInfo.InvariantCulture);

    private static string Join(JsonElement array, string separator, string empty)
    {
        var items = array.EnumerateArray().Select(e => e.GetString()).ToList();
        return items.Count == 0 ? empty : string.Join(separator, items);
    }

    private static async Task<string> Fact(IPage page, string key) => (await page.TextContentAsync($"[data-fact='{key}']"))!;

    private static async Task Expect(IPage page, string selector, string text)
    {
        await page.WaitForFunctionAsync("([s, t]) => document.querySelector(s).textContent === t", new[] { selector, text });
        Assert.Equal(text, await page.TextContentAsync(selector));
        Assert.True(await page.IsVisibleAsync(selector));
    }

    private static Func<int> CountApiCalls(IPage page)
    {
        var calls = 0;
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/api/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref calls);
            }
        };
        return () => Volatile.Read(ref calls);
    }

    public void Dispose()
    {
        foreach (var folder in _temporary)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string TempFile(string name, byte[] content)
    {
        var folder = Directory.CreateTempSubdirectory("ecg2af-web-").FullName;
        _temporary.Add(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private async Task<JsonDocument> PredictAsync(IReadOnlyList<string> paths, bool expectSuccess = true, Dictionary<string, string>? fields = null)
    {
        using var content = new MultipartFormDataContent
        {
            { new StringContent(Name), "name" },
            { new StringContent(Email), "email" },
        };
        foreach (var (key, value) in fields ?? [])
        {
            content.Add(new StringContent(value), key);
        }

        foreach (var path in paths)
        {
            var part = new ByteArrayContent(await File.ReadAllBytesAsync(path));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "ecg", Path.GetFileName(path));
        }

        using var response = await fixture.Api.PostAsync(new Uri(fixture.Cluster.GatewayUrl, "/api/v1/predictions"), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(!expectSuccess || response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body);
    }
}
