using System.Diagnostics;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// Runs a real command-line tool of the machine (promtool, kubectl, docker-compose) and returns what it printed. A tool
/// that is missing or fails makes the test fail with the command, exit code and its output, never skip.
/// </summary>
public static class Tool
{
    /// <summary>Runs <paramref name="program"/> in <paramref name="directory"/>; with <paramref name="environment"/>, in
    /// that environment only (plus PATH and HOME), so the caller's shell variables cannot change what it renders.</summary>
    public static string Run(string program, IEnumerable<string> arguments, string directory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            var keep = new[] { "PATH", "HOME" }.ToDictionary(k => k, k => info.Environment.TryGetValue(k, out var v) ? v : null);
            info.Environment.Clear();
            foreach (var (key, value) in keep.Where(k => k.Value is not null).Concat(environment.Select(e => KeyValuePair.Create(e.Key, (string?)e.Value))))
            {
                info.Environment[key] = value;
            }
        }

        var command = $"{program} {string.Join(' ', info.ArgumentList)}";
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{command}: {program} is not installed ({e.Message}); ./test.sh installs what it can, see its package list", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{command} hung");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{command} exited {process.ExitCode}:\n{output.Result}\n{error.Result}");
            }

            return output.Result;
        }
    }
}
