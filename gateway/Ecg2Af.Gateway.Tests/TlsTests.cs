using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Gateway.Tests;

/// <summary>
/// HTTPS on a real gateway process with a certificate made in the test: Kestrel serves it from a PEM pair or a
/// PFX, HTTPS answers carry HSTS, plain HTTP is redirected when asked (probes excepted).
/// </summary>
public sealed class TlsTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("ecg2af-tls-").FullName;
    private readonly X509Certificate2 _certificate = CreateCertificate();

    [Theory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public async Task Https_WithConfiguredCertificate_ServesItWithHsts(string format)
    {
        await using var gateway = await StartAsync(format, redirect: false);
        var https = await gateway.HttpsUrlAsync(StartTimeout);
        using var client = CreateClient(out var presented);

        using var secure = await client.GetAsync(new Uri(https, "/health/live"));
        using var plain = await client.GetAsync(new Uri(gateway.Url, "/health/live"));

        Assert.Equal(HttpStatusCode.OK, secure.StatusCode);
        Assert.Equal(_certificate.Thumbprint, presented.Value);
        Assert.Equal("max-age=31536000", Assert.Single(secure.Headers.GetValues("Strict-Transport-Security")));
        // Without the redirect, HTTP still answers, and never with HSTS (browsers ignore it over HTTP).
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task RedirectHttp_Enabled_RedirectsPageAndApiButNotProbes()
    {
        await using var gateway = await StartAsync("pem", redirect: true);
        var https = await gateway.HttpsUrlAsync(StartTimeout);
        using var client = CreateClient(out _);

        using var page = await client.GetAsync(new Uri(gateway.Url, "/index.html?x=1"));
        using var api = await client.PostAsync(new Uri(gateway.Url, "/api/v1/predictions"), new StringContent("x"));
        using var probe = await client.GetAsync(new Uri(gateway.Url, "/health/ready"));
        using var followed = await client.GetAsync(page.Headers.Location);

        Assert.Equal(HttpStatusCode.PermanentRedirect, page.StatusCode);
        Assert.Equal(new Uri(https, "/index.html?x=1"), page.Headers.Location);
        Assert.Equal(HttpStatusCode.PermanentRedirect, api.StatusCode);
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(HttpStatusCode.OK, followed.StatusCode);
        Assert.True(followed.Headers.Contains("Strict-Transport-Security"));

        // A gRPC call over plain HTTP is answered (here: no worker to forward to), not redirected: gRPC clients cannot follow.
        using var grpc = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.Url, "/inference.GRPCInferenceService/ServerLive"))
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]) { Headers = { ContentType = new("application/grpc") } },
        };
        using var call = await client.SendAsync(grpc);
        Assert.NotEqual(HttpStatusCode.PermanentRedirect, call.StatusCode);
        Assert.Null(call.Headers.Location);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<ServiceProcess> StartAsync(string format, bool redirect)
    {
        var environment = new Dictionary<string, string>
        {
            ["Kestrel__Endpoints__Http__Url"] = "http://127.0.0.1:0",
            ["Kestrel__Endpoints__Https__Url"] = "https://127.0.0.1:0",
            ["Gateway__Tls__RedirectHttp"] = redirect ? "true" : "false",
        };
        if (format == "pem")
        {
            var cert = Path.Combine(_dir, "tls.crt");
            var key = Path.Combine(_dir, "tls.key");
            File.WriteAllText(cert, _certificate.ExportCertificatePem());
            using var rsa = _certificate.GetRSAPrivateKey()!;
            File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
            environment["Kestrel__Endpoints__Https__Certificate__Path"] = cert;
            environment["Kestrel__Endpoints__Https__Certificate__KeyPath"] = key;
        }
        else
        {
            var pfx = Path.Combine(_dir, "gateway.pfx");
            File.WriteAllBytes(pfx, _certificate.Export(X509ContentType.Pfx, "test-only-password"));
            environment["Kestrel__Endpoints__Https__Certificate__Path"] = pfx;
            environment["Kestrel__Endpoints__Https__Certificate__Password"] = "test-only-password";
        }

        return ServiceProcess.StartAsync("gateway", RepositoryLayout.GatewayDll, environment, 0, StartTimeout);
    }

    /// <summary>A client that trusts exactly the test's certificate and records which one the server presented.</summary>
    private HttpClient CreateClient(out StrongBox<string?> presented)
    {
        var seen = new StrongBox<string?>();
        presented = seen;
        var expected = _certificate.Thumbprint;
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                seen.Value = cert?.Thumbprint;
                return cert?.Thumbprint == expected;
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
