using System.Net;
using System.Net.Http.Headers;

namespace Ecg2Af.Gateway.Tests.EndToEnd;

/// <summary>The gateway's security headers on the page and on a proxied API answer (issue 13, item 4).</summary>
[Collection(ClusterCollection.Name)]
public sealed class SecurityHeadersTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData("GET", "/")]
    [InlineData("GET", "/app.js")]
    [InlineData("POST", "/api/v1/predictions")]
    public async Task Answer_CarriesCspNosniffAndNoReferrer(string method, string path)
    {
        using var client = new HttpClient { BaseAddress = fixture.Gateway };
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new ByteArrayContent("not a form"u8.ToArray());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("multipart/form-data");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(method == "GET" ? HttpStatusCode.OK : HttpStatusCode.BadRequest, response.StatusCode);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }
}
