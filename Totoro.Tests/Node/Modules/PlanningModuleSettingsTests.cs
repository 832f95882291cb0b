using Totoro.Actors.Forest;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;
using Totoro.Kernel.Settings;
using Totoro.Node.Modules;

namespace Totoro.Tests.Node.Modules;

public class PlanningModuleSettingsTests
{
    private static readonly NodeId Self = NodeId.FromName("planner-node");

    [Test]
    public void Default_is_the_static_planner_with_the_records_defaults_and_the_lowest_rtt_hop_rule()
    {
        var settings = PlanningModuleSettings.FromConfig(NodeTestKit.Config("plan"));
        Assert.That(settings.Kind, Is.EqualTo(PlannerKind.Static));
        Assert.That(settings.Planning, Is.EqualTo(PlanningSettings.Default));
        Assert.That(settings.CreateHopPlanner(Self), Is.SameAs(LowestRttPlanner.Instance));
        Assert.That(settings.CreatePushDownChooser(Self), Is.SameAs(PrefixPushDownChooser.Instance));
        Assert.That(RingModuleSettings.FromConfig(NodeTestKit.Config("plan"), "plan").Planning, Is.EqualTo(settings));
    }

    [TestCase("bandit", "bandit")]
    [TestCase("game", "game")]
    public void Learning_planners_are_chosen_by_key_and_reach_the_ring_through_the_adapter(string text, string name)
    {
        var kind = name == "bandit" ? PlannerKind.Bandit : PlannerKind.GameTheoretic;
        var config = NodeTestKit.Config("plan", $"totoro.planning {{ planner = {text}, bandit.discount = 0.9, game {{ inertia = 0.5, estimate-weight = 0.25 }} }}");
        var settings = PlanningModuleSettings.FromConfig(config);
        Assert.That(settings.Kind, Is.EqualTo(kind));
        Assert.That(settings.Planning.Bandit.Discount, Is.EqualTo(0.9));
        Assert.That(settings.Planning.Game.Inertia, Is.EqualTo(0.5));
        Assert.That(settings.Planning.Game.EstimateWeight, Is.EqualTo(0.25));
        var hop = settings.CreateHopPlanner(Self);
        Assert.That(hop, Is.InstanceOf<PathPlannerHopAdapter>());
        Assert.That(((PathPlannerHopAdapter)hop).Planner.Name, Is.EqualTo(name));
        var pushDown = settings.CreatePushDownChooser(Self);
        Assert.That(pushDown, Is.InstanceOf<PlannerPushDownChooser>());
        Assert.That(((PlannerPushDownChooser)pushDown).Planner.Name, Is.EqualTo(name));
        Assert.That(((PlannerPushDownChooser)pushDown).Planner, Is.Not.SameAs(((PathPlannerHopAdapter)hop).Planner), "ring and forest keep separate planners");
        Assert.That(RingModuleSettings.FromConfig(config, "plan").Planning.Kind, Is.EqualTo(kind));
    }

    [Test]
    public void Invalid_planning_settings_name_their_key_paths()
    {
        var config = NodeTestKit.Config("plan", "totoro.planning { planner = fastest, bandit.discount = 2, game.probe-rate = -1 }");
        var failure = Assert.Throws<SettingsException>(() => PlanningModuleSettings.FromConfig(config))!;
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.planning.planner").And.Contains("fastest"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.planning.bandit.discount"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.planning.game.probe-rate"));
        Assert.That(() => RingModuleSettings.FromConfig(config, "plan"), Throws.InstanceOf<SettingsException>());
    }

    [TestCase("bandit.discount = 0", "totoro.planning.bandit.discount")]
    [TestCase("bandit.hysteresis = 1", "totoro.planning.bandit.hysteresis")]
    [TestCase("game { probe-rate = 0.2, min-probe-rate = 0.3 }", "totoro.planning.game.min-probe-rate")]
    [TestCase("game.inertia = 0", "totoro.planning.game.inertia")]
    [TestCase("game.switch-memory = 0", "totoro.planning.game.switch-memory")]
    [TestCase("max-decision-points = 0", "totoro.planning.max-decision-points")]
    public void Record_rules_beyond_the_plain_ranges_also_name_the_key_path(string extra, string key)
    {
        var config = NodeTestKit.Config("plan", $"totoro.planning {{ {extra} }}");
        var failure = Assert.Throws<SettingsException>(() => PlanningModuleSettings.FromConfig(config))!;
        Assert.That(failure.Errors, Has.Some.StartsWith(key));
    }

    [Test]
    public void The_decision_point_bound_and_switch_memory_are_read_from_hocon()
    {
        var config = NodeTestKit.Config("plan", "totoro.planning { planner = bandit, max-decision-points = 7, game.switch-memory = 0.5 }");
        var settings = PlanningModuleSettings.FromConfig(config);

        Assert.That(settings.Planning.MaxDecisionPoints, Is.EqualTo(7));
        Assert.That(settings.Planning.Game.SwitchMemory, Is.EqualTo(0.5));
    }
}
