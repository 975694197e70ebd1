using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests;

/// <summary>Bad configuration stops the gateway at start-up, saying which setting is wrong; no workers is not an error.</summary>
public class StartupTests
{
    [Fact]
    public async Task Start_NoKeys_ProtectedRouteAnswers401NotTheWorkers()
    {
        await using var gateway = await ServiceProcess.StartAsync("gateway", RepositoryLayout.GatewayDll, new Dictionary<string, string>(), 0, TimeSpan.FromSeconds(60));
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(gateway.Url, "/api/v1/anything"));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("No API keys are configured", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NoDestinations_ApiAnswers503WithRetryAfter()
    {
        var key = TestApiKey.Create("startup");
        await using var gateway = await ServiceProcess.StartAsync("gateway", RepositoryLayout.GatewayDll, key.Settings(), 0, TimeSpan.FromSeconds(60));
        using var client = key.Authorize(new HttpClient());

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
    [InlineData("Security__ApiKeys__0__Hash", "sha256:not-hex", "Security:ApiKeys:0")]
    [InlineData("Gateway__RateLimit__KeyTokenLimit", "0", "KeyTokenLimit")]
    [InlineData("Gateway__WarmUp__MaxDuration", "00:00:00", "MaxDuration")]
    [InlineData("Gateway__WarmUp__Concurrency", "0", "Concurrency")]
    [InlineData("Gateway__WarmUp__Model", "a/b", "Model")]
    [InlineData("Security__ApiKeys__0__Id", "gateway-warm-up", "'gateway-warm-up' is reserved for the services' own warm-up requests")]
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
