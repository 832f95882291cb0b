using System.CommandLine;

namespace Totoro.Node.Cli;

/// <summary>The <c>totoro bench …</c> group: macro benchmarks whose medians go into docs/benchmarks.md.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Macro benchmarks (medians of several runs; --json prints one summary object)");
        bench.Subcommands.Add(BenchFedAvgCommand.Create());
        bench.Subcommands.Add(BenchKernelCommand.Create());
        bench.Subcommands.Add(BenchTransportCommand.Create());
        return bench;
    }
}
