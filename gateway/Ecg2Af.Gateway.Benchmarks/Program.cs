using Ecg2Af.Gateway.Benchmarks;

// dotnet run -c Release --project gateway/Ecg2Af.Gateway.Benchmarks -- [--seconds 8] [--pairs 5] [--clients 4] [--workers 1]
//     [--latency-requests 2000] [--ecg <file>] [--out <file.json>]
var settings = BenchmarkSettings.Parse(args);
var report = await GatewayBenchmark.RunAsync(settings, Console.Out);
Console.WriteLine();
Console.WriteLine(report.ToMarkdown());
if (settings.OutputPath is { } path)
{
    await File.WriteAllTextAsync(path, report.ToJson());
}

return report.MeetsGoals ? 0 : 2;
