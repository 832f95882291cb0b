using System.CommandLine;
using Totoro.Node.Cli;

// `sim ring` runs in a child process with the simulator's GC settings (--gc default opts out); see SimGcLauncher.
if (SimGcLauncher.TryRunInChild(args) is { } childExitCode)
{
    return childExitCode;
}

var root = new RootCommand("totoro: a decentralized federated-learning engine built from actors");
root.Subcommands.Add(NodeCommand.Create());
root.Subcommands.Add(CmdCommand.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(SimCommands.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
