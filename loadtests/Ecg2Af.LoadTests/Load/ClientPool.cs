using System.Net;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.LoadTests.Load;

/// <summary>
/// HTTP clients spread over many loopback source addresses (127.0.1.1, 127.0.1.2, …), so the gateway's client-IP
/// hash spreads them over the workers as it would spread real users. Each client keeps its own keep-alive pool and,
/// given an API key, sends it on every request (<c>Authorization: Bearer</c>), as a programmatic client does.
/// </summary>
public sealed class ClientPool : IReadOnlyList<HttpClient>, IDisposable
{
    private readonly HttpClient[] _clients;

    public ClientPool(int count, TimeSpan requestTimeout, int connectionsPerClient, string? apiKey = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Addresses = Enumerable.Range(0, count).Select(LoopbackClients.Address).ToList();
        _clients = Addresses.Select(a => Authorize(LoopbackClients.Create(a, requestTimeout, connectionsPerClient), apiKey)).ToArray();
    }

    /// <summary>Makes <paramref name="client"/> send <paramref name="apiKey"/> (when there is one).</summary>
    public static HttpClient Authorize(HttpClient client, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!string.IsNullOrEmpty(apiKey))
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public IReadOnlyList<IPAddress> Addresses { get; }

    public int Count => _clients.Length;

    public HttpClient this[int index] => _clients[index % _clients.Length];

    public IEnumerator<HttpClient> GetEnumerator() => ((IEnumerable<HttpClient>)_clients).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
