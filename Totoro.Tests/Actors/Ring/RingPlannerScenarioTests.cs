using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>The ring actor with each path planner behind <see cref="PathPlannerHopAdapter"/>: routing stays exact, and learning planners get hop feedback.</summary>
public class RingPlannerScenarioTests
{
    [TestCase("static")]
    [TestCase("bandit")]
    [TestCase("game")]
    public void Every_key_reaches_its_closest_live_node_with_each_planner_and_the_planner_learns_from_hop_acks(string planner)
    {
        var kind = PathPlanners.Parse(planner);
        const int Nodes = 60;
        var planners = new List<CountingPlanner>();
        var cluster = RingCluster.Create(Nodes, 17);
        cluster.PlannerFor = self =>
        {
            var planner = new CountingPlanner(PathPlanners.Create(kind, PlanningSettings.Default, new Random(planners.Count + 1)));
            planners.Add(planner);
            return new PathPlannerHopAdapter(self.Id, planner);
        };
        cluster.BuildByJoining(Nodes, TimeSpan.FromMilliseconds(100));
        cluster.Scenario.Advance(TimeSpan.FromSeconds(10));

        // Twice over the same keys: the second pass routes with planners that have observed the first.
        var keys = cluster.RouteRandomKeys(300);
        var again = keys.Select(sent => (Lookup: cluster.Route((sent.Lookup * 7) % Nodes, sent.Key), sent.Key)).ToList();
        cluster.Scenario.Advance(TimeSpan.FromSeconds(5));

        foreach (var (lookup, key) in keys.Concat(again))
        {
            Assert.That(cluster.Deliveries.TryGetValue(lookup, out var delivered), Is.True, $"{kind}: lookup {lookup} delivered");
            Assert.That(delivered.Node, Is.EqualTo(cluster.ClosestLive(key)), $"{kind}: lookup {lookup} reached the closest live node");
        }

        Assert.That(planners, Has.Count.EqualTo(Nodes));
        Assert.That(planners.Sum(p => p.Choices), Is.GreaterThan(0), "routing went through the planners");
        Assert.That(planners.Sum(p => p.Observations), Is.GreaterThan(0), "acknowledged hops reached the planners as feedback");
        Assert.That(planners.SelectMany(p => p.Costs), Is.All.GreaterThanOrEqualTo(0.0).And.LessThan(RingSettings.Default.HopAckTimeout.TotalSeconds));
    }

    /// <summary>Forwards to a real planner and counts what reaches it.</summary>
    private sealed class CountingPlanner(IPathPlanner inner) : IPathPlanner
    {
        public void Forget(DecisionPoint point) => inner.Forget(point);

        public int Choices { get; private set; }

        public int Observations => Costs.Count;

        public List<double> Costs { get; } = [];

        public string Name => inner.Name;

        public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
        {
            Choices++;
            return inner.Choose(point, candidates);
        }

        public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates) => inner.Preferred(point, candidates);

        public void Observe(DecisionPoint point, NodeId chosen, double cost)
        {
            Costs.Add(cost);
            inner.Observe(point, chosen, cost);
        }
    }
}
