using System.Diagnostics;
using System.Text;
using Ecg2Af.Inference.StandIn;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Cli.Tests;

/// <summary>The built <c>ecg2af</c> command, run as a process (<c>dotnet ecg2af.dll ...</c>) in a folder of the test's.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Dll
    {
        get
        {
            var path = Path.Combine(RepositoryLayout.Root, "inference-worker", "Ecg2Af.Cli", "bin", RepositoryLayout.Configuration, "net10.0", "ecg2af.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built.", path);
        }
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    public static CliProcess Start(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new CliProcess(Process.Start(start)!);
    }

    /// <summary>Runs the command to its end (at most <paramref name="timeout"/>).</summary>
    public static async Task<CliProcess> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var cli = Start(workingDirectory, arguments);
        await cli.WaitAsync(timeout);
        return cli;
    }

    public async Task WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"ecg2af did not finish within {timeout}. Standard error:\n{Stderr}");
        }

        _process.WaitForExit(); // drains the output readers
    }

    /// <summary>Ends the command at once, as a killed job would (no clean-up runs).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (target)
        {
            target.AppendLine(line);
        }
    }
}

/// <summary>A model repository holding the stand-in, built once for the test run, and a scratch folder per test.</summary>
public sealed class CliFixture : IDisposable
{
    public CliFixture()
    {
        Root = Directory.CreateTempSubdirectory("ecg2af-cli-tests-").FullName;
        Models = Path.Combine(Root, "models");
        StandInModel.Write(Path.Combine(Models, "ecg2af", "1"), name: "ecg2af", version: "1");
    }

    public string Root { get; }

    public string Models { get; }

    public string Scratch() => Directory.CreateDirectory(Path.Combine(Root, $"run-{Guid.NewGuid():N}")).FullName;

    /// <summary>A real gateway and one worker serving <see cref="Models"/>, auditing into <paramref name="work"/>; the
    /// <paramref name="settings"/> (API keys, say) go to both.</summary>
    public Task<LocalCluster.LocalCluster> StartClusterAsync(string work, IReadOnlyDictionary<string, string>? settings = null)
    {
        var shared = settings ?? new Dictionary<string, string>();
        return LocalCluster.LocalCluster.StartAsync(new LocalCluster.LocalClusterOptions
        {
            Workers = 1,
            WorkerSettings = new Dictionary<string, string>(shared)
            {
                ["Model__RepositoryPath"] = Models,
                ["Audit__SqlitePath"] = Path.Combine(work, "audit.db"),
            },
            GatewaySettings = shared,
        });
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
