using System.CommandLine;
using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

/// <summary>Bad `sim ring` flags end in one line naming the setting and exit code 2 (they used to throw a stack trace).</summary>
[NonParallelizable]
public sealed class SimRingCommandTests
{
    [TestCase("--leaf-set", "3", "leaf-set-size must be even", "(got 3)")]
    [TestCase("--candidates", "0", "candidates-per-slot must be ≥ 1", "(got 0)")]
    [TestCase("--nodes", "ten", "--nodes: 'ten' is not a node count", "")]
    public async Task A_bad_flag_is_reported_in_one_line_without_running(string flag, string value, string expected, string actual)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        int exit;
        try
        {
            var root = new RootCommand { SimRingCommand.Create() };
            string[] args = flag == "--nodes" ? ["ring", flag, value, "--json"] : ["ring", "--nodes", "1000", flag, value, "--json"];
            exit = await root.Parse(args).InvokeAsync().ConfigureAwait(false);
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.That(exit, Is.EqualTo(2));
        var lines = error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), error.ToString());
        Assert.That(lines[0], Does.StartWith("totoro sim ring: ").And.Contain(expected).And.Contain(actual));
    }
}
