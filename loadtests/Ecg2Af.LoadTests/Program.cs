using Ecg2Af.LoadTests.Commands;

// ecg2af-load: the root command runs scenarios (Commands/RunCommand.cs); wrk-check compares one scenario's
// throughput with wrk's; bench measures the figures of docs/benchmarks.md in one run; compare holds two HTTP services against each other;
// bench-protocols compares gRPC, REST binary OIP and the multipart form through the gateway; bench-latency measures the
// gateway's added latency on a trivial route and the tail at a fraction of peak; bench-batch one batch request of many
// records against single records.
var root = RunCommand.Create();
root.Subcommands.Add(WrkCheckCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(ProtocolBenchCommand.Create());
root.Subcommands.Add(LatencyBenchCommand.Create());
root.Subcommands.Add(BatchBenchCommand.Create());
return await root.Parse(args).InvokeAsync();
