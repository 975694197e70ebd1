using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Short runs in-process (no generated project, which the repository's warnings-as-errors settings would also build):
// a few minutes for every format. Pass BenchmarkDotNet arguments after "--", e.g. --filter *ParseAndPrepare*.
// --smoke: one iteration of each case instead (seconds; proves every format's setup and methods run, measures nothing).
var smoke = args.Contains("--smoke");
args = [.. args.Where(a => a != "--smoke")];
var config = DefaultConfig.Instance
    .AddJob((smoke ? Job.Dry : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
