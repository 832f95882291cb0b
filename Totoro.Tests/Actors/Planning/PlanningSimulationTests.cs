using System.Collections.Immutable;
using System.Text.Json;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;
using Totoro.Node.Cli;

namespace Totoro.Tests.Actors.Planning;

[TestFixture]
internal sealed class PlanningSimulationTests
{
    [Test]
    public void Trees_stay_valid_and_within_the_cap_while_parents_switch_every_round()
    {
        var simulation = new PlanningSimulation(new PlanningSimOptions(Nodes: 150, Apps: 4, Heterogeneity: 1, Rounds: 1, Seed: 11) { FanOutCap = 3, TopAppShare = 0.6 });
        var forest = simulation.NewForest();
        var planner = new UniformPlanner(new Random(4));
        var previous = new Dictionary<(int, int), int>();
        var switches = 0;
        var capReached = false;
        for (var round = 0; round < 30; round++)
        {
            for (var app = 0; app < forest.Apps.Length; app++)
            {
                forest.Build(app, planner.Choose);
            }

            TreeAssert.Valid(forest);
            for (var app = 0; app < forest.Apps.Length; app++)
            {
                foreach (var node in forest.Members(app).Skip(1))
                {
                    var parent = forest.ParentOf(app, node);
                    switches += previous.TryGetValue((app, node), out var before) && before != parent ? 1 : 0;
                    previous[(app, node)] = parent;
                    capReached |= forest.View(app).ChildCount(parent) == forest.FanOutCap;
                }
            }
        }

        Assert.That(switches, Is.GreaterThan(100), "parents really switched");
        Assert.That(capReached, Is.True, "the cap was binding somewhere");
    }

    [Test]
    public void Planners_run_on_the_same_ring_and_learning_beats_proximity_on_heterogeneous_links()
    {
        var options = new PlanningSimOptions(Nodes: 200, Apps: 6, Heterogeneity: 1, Rounds: 100, Seed: 3) { EpsilonEvery = 20 };
        var (summary, runs) = SimPlanningCommand.Run(options, [PlannerKind.Static, PlannerKind.Bandit, PlannerKind.GameTheoretic], TextWriter.Null);
        var json = new StringWriter();
        JsonSummary.Write(json, summary);

        using var document = JsonDocument.Parse(json.ToString());
        Assert.That(document.RootElement.GetProperty("simulation").GetString(), Is.EqualTo("planning"));
        Assert.That(document.RootElement.GetProperty("planners").GetArrayLength(), Is.EqualTo(3));
        Assert.That(json.ToString().Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(runs.Select(run => run.Rounds.Length), Is.All.EqualTo(100));
        Assert.That(runs[0].Rounds.Select(r => r.MeanRoundTime).Distinct().Count(), Is.EqualTo(1), "static trees never change");
        Assert.That(runs[2].Rounds.TakeLast(10).Average(r => (double)r.Switches / r.Players), Is.LessThan(0.1), "inertia: few parents switch per round");
        Assert.That(summary.SpeedupGameOverStatic, Is.GreaterThan(1.0));
        Assert.That(runs[2].Rounds[^1].EpsilonRelative, Is.LessThanOrEqualTo(0.05), "the committed profile ends within 5 % of an equilibrium");
        Assert.That(runs[2].Rounds.Sum(r => r.ProbeBytes), Is.GreaterThan(0), "probe bytes are charged");
        Assert.That(runs[1].Rounds.Sum(r => r.ProbeBytes), Is.Zero, "the bandit does not probe");
    }

    /// <summary>
    /// Regression (issue #8): on these instances the committed profile used to end 17 % (seed 1) and 21 % (seed 5)
    /// of the mean path cost away from an equilibrium: a few players re-verified one alternative every round while
    /// inertia held them back, never probing their best response, and stale absolute estimates of alternatives looked
    /// ever worse as everybody's costs fell. ε is measured on the committed trees with exact costs.
    /// </summary>
    [TestCase(1)]
    [TestCase(5)]
    public void The_game_planner_ends_within_five_percent_of_an_equilibrium_on_a_small_heterogeneous_instance(int seed)
    {
        var simulation = new PlanningSimulation(new PlanningSimOptions(Nodes: 200, Apps: 6, Heterogeneity: 1, Rounds: 150, Seed: seed) { EpsilonEvery = 10 });
        var run = simulation.Run(PlannerKind.GameTheoretic);

        Assert.That(run.Rounds[^1].EpsilonRelative, Is.LessThanOrEqualTo(0.05), $"seed {seed}: final ε");
        Assert.That(run.Rounds[^1].PlayersAboveTarget, Is.Zero, $"seed {seed}: no player could gain more than 5 % of the mean cost");
    }

    [Test]
    public void The_trees_that_carry_traffic_are_the_game_planners_committed_choices_and_probes_do_not_move_them()
    {
        var simulation = new PlanningSimulation(new PlanningSimOptions(Nodes: 150, Apps: 4, Heterogeneity: 1, Rounds: 1, Seed: 12) { ProbeNoise = 0.05 });
        var forest = simulation.NewForest();
        var planner = new GameTheoreticPlanner(GameSettings.Default, new Random(2));
        var pathCost = forest.Apps.Select(_ => new double[150]).ToArray();
        var probes = new List<(int Prober, int Target)>();
        var probed = 0;
        for (var round = 0; round < 40; round++)
        {
            for (var app = 0; app < forest.Apps.Length; app++)
            {
                forest.Build(app, planner.Choose);
                forest.Time(app, pathCost[app]);
                foreach (var node in forest.Members(app).Skip(1))
                {
                    planner.Observe(forest.Point(app, node), forest.Entry(app, node, forest.ParentOf(app, node)).Id, pathCost[app][node]);
                }
            }

            var before = Parents(forest);
            probes.Clear();
            simulation.Probe(planner, forest, pathCost, new Random(round), probes);
            probed += probes.Count;
            Assert.That(Parents(forest), Is.EqualTo(before), $"round {round}: probing left every tree as it was");
            for (var app = 0; app < forest.Apps.Length; app++)
            {
                foreach (var node in forest.Members(app).Skip(1))
                {
                    Assert.That(planner.CommittedAt(forest.Point(app, node)), Is.EqualTo(forest.Entry(app, node, forest.ParentOf(app, node)).Id), "parent = committed choice");
                }
            }

            forest.SetProbes(probes);
        }

        Assert.That(probed, Is.GreaterThan(100), "probes were sent");
    }

    private static List<int> Parents(PlanningForest forest) =>
        [.. Enumerable.Range(0, forest.Apps.Length).SelectMany(app => forest.Members(app).Select(node => forest.ParentOf(app, node)))];

    [Test]
    public void Options_reject_bad_values_with_the_flag_name()
    {
        Assert.That(() => new PlanningSimOptions(10, 5, 1, 10, 1).Validated(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("--nodes"));
        Assert.That(() => new PlanningSimOptions(100, 5, 1.5, 10, 1).Validated(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("--heterogeneity"));
        Assert.That(() => PathPlanners.Parse("greedy"), Throws.ArgumentException.With.Message.Contains("static, bandit or game"));
    }

    [Test]
    public void Heterogeneity_zero_gives_uniform_links_and_one_spans_one_to_a_hundred_megabits()
    {
        var flat = PlanningLinks.Generate(1000, 0, new Random(1));
        var spread = PlanningLinks.Generate(1000, 1, new Random(1));

        Assert.That(flat.UplinkBitsPerSecond.Distinct().Count(), Is.EqualTo(1));
        Assert.That(spread.UplinkBitsPerSecond.Min(), Is.GreaterThanOrEqualTo(1e6));
        Assert.That(spread.UplinkBitsPerSecond.Max(), Is.LessThanOrEqualTo(100e6).And.GreaterThan(50e6));
        Assert.That(spread.UplinkBitsPerSecond.Order().ElementAt(500), Is.LessThan(10e6), "skewed toward slow links");
        Assert.That(spread.DownlinkBitsPerSecond.Zip(spread.UplinkBitsPerSecond).All(pair => pair.First >= pair.Second), Is.True);
    }

    /// <summary>Picks uniformly at random every time: the most switching a planner can do.</summary>
    private sealed class UniformPlanner(Random random) : IPathPlanner
    {
        public void Forget(DecisionPoint point)
        {
        }

        public string Name => "uniform";

        public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates) => candidates[random.Next(candidates.Length)];

        public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates) => candidates[0];

        public void Observe(DecisionPoint point, NodeId chosen, double cost)
        {
        }
    }
}
