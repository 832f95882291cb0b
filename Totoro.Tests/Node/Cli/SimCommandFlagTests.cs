using System.CommandLine;
using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

/// <summary>
/// Bad `sim ring` / `sim planning` / `sim forest` flags end in one line naming the setting and exit code 2, before anything runs
/// (they used to end in an unhandled exception with a stack trace).
/// </summary>
[NonParallelizable]
public sealed class SimCommandFlagTests
{
    [TestCase("--leaf-set", "3", "leaf-set-size must be even", "(got 3)")]
    [TestCase("--candidates", "0", "candidates-per-slot must be ≥ 1", "(got 0)")]
    [TestCase("--nodes", "ten", "--nodes: 'ten' is not a node count", "")]
    [TestCase("--proximity-probes", "-1", "totoro.ring.proximity-probes must be in 0..1024", "(got -1)")]
    [TestCase("--sparse-extra", "-1", "totoro.ring.sparse-extra-candidates must be in 0..16", "(got -1)")]
    [TestCase("--gc", "fast", "--gc: 'fast' is not a GC profile (expected sim or default)", "")]
    public async Task A_bad_sim_ring_flag_is_reported_in_one_line(string flag, string value, string expected, string actual)
    {
        string[] args = flag == "--nodes" ? ["ring", flag, value, "--json"] : ["ring", "--nodes", "1000", flag, value, "--json"];
        var (exit, lines) = await Invoke(SimRingCommand.Create(), args).ConfigureAwait(false);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(lines, Has.Length.EqualTo(1), string.Join('\n', lines));
        Assert.That(lines[0], Does.StartWith("totoro sim ring: ").And.Contain(expected).And.Contain(actual));
        Assert.That(lines[0], Does.Not.Contain("(Parameter '"), "the C# parameter name is noise to a CLI user");
    }

    [Test]
    public async Task A_missing_network_file_is_reported_in_one_line()
    {
        var (exit, lines) = await Invoke(SimRingCommand.Create(), ["ring", "--nodes", "1000", "--network", "/nonexistent/net.conf", "--json"]).ConfigureAwait(false);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(lines, Is.EqualTo(new[] { "totoro sim ring: --network: config file '/nonexistent/net.conf' does not exist" }));
    }

    [Test]
    public async Task A_network_file_with_bad_keys_gets_one_line_per_key()
    {
        var file = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"bad-net-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "totoro.sim.network { base-latency = fast\n zone-sites = [{ name = a, latitude = 0, longitude = 200 }] }");
        try
        {
            var (exit, lines) = await Invoke(SimRingCommand.Create(), ["ring", "--nodes", "1000", "--network", file, "--json"]).ConfigureAwait(false);

            Assert.That(exit, Is.EqualTo(2));
            Assert.That(lines, Has.Length.EqualTo(2), string.Join('\n', lines));
            Assert.That(lines[0], Does.StartWith("totoro sim ring: totoro.sim.network.base-latency: expected a duration"));
            Assert.That(lines[1], Does.StartWith("totoro sim ring: totoro.sim.network.zone-sites.0.longitude: must be between -180 and 180, was 200"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task Sim_forest_names_a_missing_network_file_too()
    {
        var (exit, lines) = await Invoke(SimForestCommand.Create(), ["forest", "--nodes", "100", "--members", "20", "--network", "/nonexistent/net.conf", "--json"]).ConfigureAwait(false);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(lines, Is.EqualTo(new[] { "totoro sim forest: --network: config file '/nonexistent/net.conf' does not exist" }));
    }

    [TestCase("--nodes", "0", "--nodes must be ≥ 20", "(got 0)")]
    [TestCase("--apps", "-1", "--apps must be in [1, 1000]", "(got -1)")]
    [TestCase("--planners", "greedy", "unknown planner 'greedy'", "")]
    public async Task A_bad_sim_planning_flag_is_reported_in_one_line(string flag, string value, string expected, string actual)
    {
        var (exit, lines) = await Invoke(SimPlanningCommand.Create(), ["planning", flag, value, "--json"]).ConfigureAwait(false);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(lines, Has.Length.EqualTo(1), string.Join('\n', lines));
        Assert.That(lines[0], Does.StartWith("totoro sim planning: ").And.Contain(expected).And.Contain(actual));
        Assert.That(lines[0], Does.Not.Contain("(Parameter '"));
    }

    [Test]
    public async Task A_bad_sim_forest_flag_is_reported_in_one_line()
    {
        var (exit, lines) = await Invoke(SimForestCommand.Create(), ["forest", "--nodes", "10", "--members", "20", "--json"]).ConfigureAwait(false);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(lines, Has.Length.EqualTo(1), string.Join('\n', lines));
        Assert.That(lines[0], Does.StartWith("totoro sim forest: ").And.Contain("--members").And.Contain("(got 20)"));
    }

    [TestCase("--model", "resnet", "--model: unknown model 'resnet'; known: logreg, mlp, lenet5")]
    [TestCase("--model", "lenet5", "--model: 'lenet5' cannot be built for --dataset synthetic: a 5x5 kernel")]
    [TestCase("--ring-warmup", "-5", "--ring-warmup: -5 is not a number of seconds")]
    [TestCase("--ring-maintenance", "NaN", "--ring-maintenance: NaN is not a number of seconds")]
    public async Task A_bad_sim_fl_ring_flag_is_reported_in_one_line(string flag, string value, string expected)
    {
        var (exit, lines) = await Invoke(SimFlCommand.Create(), ["fl", "--dataset", "synthetic", flag, value, "--json"]).ConfigureAwait(false);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(lines, Has.Length.EqualTo(1), string.Join('\n', lines));
        Assert.That(lines[0], Does.StartWith("sim fl: ").And.Contain(expected));
    }

    private static async Task<(int Exit, string[] Lines)> Invoke(Command command, string[] args)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var root = new RootCommand { command };
            var exit = await root.Parse(args).InvokeAsync().ConfigureAwait(false);
            return (exit, error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Console.SetError(original);
        }
    }
}
