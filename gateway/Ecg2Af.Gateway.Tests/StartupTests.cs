using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests;

/// <summary>Bad configuration stops the gateway at start-up, saying which setting is wrong; no workers is not an error.</summary>
public class StartupTests
{
    [Fact]
    public async Task Start_NoDestinations_ApiAnswers503WithRetryAfter()
    {
        await using var gateway = await ServiceProcess.StartAsync("gateway", RepositoryLayout.GatewayDll, new Dictionary<string, string>(), 0, TimeSpan.FromSeconds(60));
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(gateway.Url, "/api/v1/anything"));

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("Gateway__ClientAddress__TrustedProxies__0", "not-an-address", "TrustedProxies")]
    [InlineData("Gateway__Failover__MaxRetries", "-1", "MaxRetries")]
    [InlineData("Gateway__Failover__ConnectTimeout", "00:00:00", "ConnectTimeout")]
    [InlineData("Gateway__RateLimit__TokenLimit", "0", "TokenLimit")]
    [InlineData("Gateway__PassiveHealth__FailureRateLimit", "1.5", "FailureRateLimit")]
    [InlineData("Gateway__Tls__RedirectHttp", "true", "RedirectHttp")]
    [InlineData("Gateway__Tls__HstsMaxAge", "00:00:00", "HstsMaxAge")]
    public async Task Start_InvalidSetting_ExitsNamingIt(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var gateway = await ServiceProcess.StartAsync("gateway", RepositoryLayout.GatewayDll,
                new Dictionary<string, string> { [key] = value }, 0, TimeSpan.FromSeconds(60));
        });

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
