using System.Collections;
using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

/// <summary>When `totoro sim ring` re-executes itself with the simulator's GC settings, and with which environment.</summary>
public sealed class SimGcLauncherTests
{
    private static readonly string[] Ring = ["sim", "ring", "--nodes", "1000", "--json"];

    [Test]
    public void Sim_ring_runs_in_a_child_with_server_gc_and_the_marker()
    {
        var environment = SimGcLauncher.ChildEnvironment(Ring, new Hashtable { ["PATH"] = "/bin" });

        Assert.That(environment, Is.Not.Null);
        var variables = environment!.ToDictionary(variable => variable.Key, variable => variable.Value);
        Assert.That(variables["DOTNET_gcServer"], Is.EqualTo("1"));
        Assert.That(variables["DOTNET_GCHeapCount"], Is.EqualTo("2"), "a fixed count also turns off DATAS, which was slower");
        Assert.That(variables, Has.Count.EqualTo(3));
        Assert.That(variables[SimGcProfile.ChildMarker], Is.EqualTo("sim"));
    }

    [TestCase("--gc", "default")]
    [TestCase("--gc=default", null)]
    public void Gc_default_opts_out(string flag, string? value)
    {
        string[] args = value is null ? [.. Ring, flag] : [.. Ring, flag, value];
        Assert.That(SimGcLauncher.ChildEnvironment(args, new Hashtable()), Is.Null);
    }

    [Test]
    public void The_child_itself_other_commands_and_a_callers_own_gc_variables_never_re_execute()
    {
        Assert.That(SimGcLauncher.ChildEnvironment(Ring, new Hashtable { [SimGcProfile.ChildMarker] = "sim" }), Is.Null);
        Assert.That(SimGcLauncher.ChildEnvironment(Ring, new Hashtable { ["DOTNET_gcServer"] = "1" }), Is.Null);
        Assert.That(SimGcLauncher.ChildEnvironment(["node", "--port", "7000"], new Hashtable()), Is.Null);
        Assert.That(SimGcLauncher.ChildEnvironment(["sim", "fl", "--json"], new Hashtable()), Is.Null);
        Assert.That(SimGcLauncher.ChildEnvironment([], new Hashtable()), Is.Null);
    }

    [Test]
    public void An_unknown_profile_is_left_to_the_command_to_report()
    {
        Assert.That(SimGcLauncher.ChildEnvironment([.. Ring, "--gc", "fast"], new Hashtable()), Is.Null);
        Assert.That(() => SimGcProfile.Parse("fast"), Throws.InstanceOf<FormatException>().With.Message.Contains("--gc: 'fast'"));
    }

    [Test]
    public void The_last_gc_flag_wins_and_gc_variables_are_found_case_insensitively()
    {
        Assert.That(SimGcLauncher.RequestedProfile(["sim", "ring", "--gc", "default", "--gc=sim"]), Is.EqualTo("sim"));
        Assert.That(SimGcLauncher.RequestedProfile(["sim", "ring"]), Is.Null);
        var found = SimGcLauncher.GcVariables(new Hashtable { ["COMPLUS_gcServer"] = "1", ["DOTNET_GCgen0size"] = "0x1000", ["DOTNET_TieredPGO"] = "0" });
        Assert.That(found.Keys, Is.EqualTo(new[] { "COMPLUS_gcServer", "DOTNET_GCgen0size" }));
    }
}
