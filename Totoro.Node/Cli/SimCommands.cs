using System.CommandLine;

namespace Totoro.Node.Cli;

/// <summary>The <c>totoro sim …</c> group: simulations on the deterministic world whose results go into docs/benchmarks.md.</summary>
internal static class SimCommands
{
    public static Command Create()
    {
        var sim = new Command("sim", "Simulations on virtual time (seeded; --json prints one summary object)");
        sim.Subcommands.Add(SimRingCommand.Create());
        sim.Subcommands.Add(SimPlanningCommand.Create());
        sim.Subcommands.Add(SimFlCommand.Create());
        sim.Subcommands.Add(SimForestCommand.Create());
        return sim;
    }
}
