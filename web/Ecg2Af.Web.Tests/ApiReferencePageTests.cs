using Microsoft.Playwright;

namespace Ecg2Af.Web.Tests;

/// <summary>
/// The API reference page (<c>/docs</c>) in a real browser through the real gateway: Scalar renders the workers'
/// OpenAPI document under the page's Content-Security-Policy, loading nothing from anywhere but the gateway.
/// </summary>
public sealed class ApiReferencePageTests(WebFixture fixture) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Docs_RendersTheOperations_WithinItsPolicy_FromTheGatewayAlone()
    {
        var page = await fixture.NewPageAsync();
        var gateway = fixture.Cluster.GatewayUrl;
        var elsewhere = new List<string>();
        page.Request += (_, request) =>
        {
            if (Uri.TryCreate(request.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.Authority != gateway.Authority)
            {
                lock (elsewhere)
                {
                    elsewhere.Add(request.Url);
                }
            }
        };

        await page.GotoAsync("/docs");
        // The title, the tags and the first group's operation summaries come from the document: they appear only once
        // Scalar has fetched and rendered it (the other groups render when opened).
        await page.GetByText("Ecg2Af API").First.WaitForAsync();
        var attached = new LocatorWaitForOptions { State = WaitForSelectorState.Attached };
        await page.GetByText("Score one ECG record").First.WaitForAsync(attached);
        await page.GetByText("Open Inference Protocol").First.WaitForAsync(attached);

        await WebFixture.AssertNoCspViolationsAsync(page);
        lock (elsewhere)
        {
            Assert.True(elsewhere.Count == 0, $"The page reached beyond the gateway: {string.Join(", ", elsewhere)}");
        }

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(WebFixture.Screenshots, "api-reference.png") });
        await page.Context.CloseAsync();
    }
}
