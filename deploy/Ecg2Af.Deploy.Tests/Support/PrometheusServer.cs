using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>Debian's <c>prometheus</c> on a free loopback port with a scratch TSDB, queried through its HTTP API.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Process _process;
    private readonly string _folder;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    private PrometheusServer(Process process, string folder, Uri url)
    {
        _process = process;
        _folder = folder;
        Url = url;
    }

    public Uri Url { get; }

    public string Output => string.Join('\n', _output);

    /// <summary>Starts Prometheus with <paramref name="configuration"/> (YAML or JSON text) and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string configuration, TimeSpan timeout)
    {
        var folder = Directory.CreateTempSubdirectory("ecg2af-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, configuration);
        var port = FreePort();
        var info = new ProcessStartInfo("prometheus")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("prometheus did not start");
        var server = new PrometheusServer(process, folder, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { server._output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { server._output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Output}");
            }

            try
            {
                using var ready = await Http.GetAsync(new Uri(server.Url, "-/ready"));
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (deadline.Elapsed > timeout)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"prometheus was not ready within {timeout}:\n{server.Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>An instant query: (ok, error, result array). A parse error is ok=false with Prometheus's message.</summary>
    public async Task<(bool Ok, string? Error, JsonElement Result)> QueryAsync(string expression)
    {
        using var response = await Http.GetAsync(new Uri(Url, "api/v1/query?query=" + Uri.EscapeDataString(expression)));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        return root.GetProperty("status").GetString() == "success"
            ? (true, null, root.GetProperty("data").GetProperty("result").Clone())
            : (false, $"{root.GetProperty("errorType").GetString()}: {root.GetProperty("error").GetString()}", default);
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Url, path)));
        return json.RootElement.GetProperty("data").Clone();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
