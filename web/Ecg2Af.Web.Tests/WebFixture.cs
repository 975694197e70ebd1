using Ecg2Af.LocalCluster;
using Microsoft.Playwright;

namespace Ecg2Af.Web.Tests;

/// <summary>The real gateway (serving web/) in front of one real worker, and Debian's Chromium driven by Playwright.</summary>
public sealed class WebFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public LocalCluster.LocalCluster Cluster { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public HttpClient Api { get; } = new() { Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Where screenshots go: TestResults/screenshots beside the test binaries.</summary>
    public static string Screenshots { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots")).FullName;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new FileNotFoundException($"{ChromiumPath} is missing: install Debian's 'chromium' package (./test.sh does).", ChromiumPath);
        }

        Cluster = await LocalCluster.LocalCluster.StartAsync(new LocalClusterOptions { Workers = 1 });
        Cluster.ApiKey.Authorize(Api); // the test's own API calls, as a programmatic client
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-quic"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Api.Dispose();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    public async Task<IPage> NewPageAsync(ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Cluster.GatewayUrl.ToString(),
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 },
            AcceptDownloads = true,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync("/");
        return page;
    }
}
