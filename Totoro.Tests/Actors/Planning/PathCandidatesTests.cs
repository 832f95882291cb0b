using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Planning;

[TestFixture]
internal sealed class PathCandidatesTests
{
    private static readonly ImmutableArray<PeerEntry> Arms = PlannerTestKit.Arms(4);

    [Test]
    public void Next_hops_are_the_rule_candidates_then_the_alternatives_without_duplicates()
    {
        var decision = new RouteDecision(RouteRule.RoutingTable, [Arms[0], Arms[1]], [Arms[1], Arms[2]]);

        Assert.That(PathCandidates.NextHops(decision).Select(e => e.Address.Value), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(PathCandidates.NextHops(RouteDecision.DeliverHere), Is.Empty);
    }

    [Test]
    public void The_ring_adapter_hands_every_option_to_the_path_planner_with_the_key_as_flow()
    {
        var recorder = new RecordingPlanner();
        var self = new NodeId(99);
        var key = NodeId.FromName("topic");
        var chosen = new PathPlannerHopAdapter(self, recorder).Choose(key, new RouteDecision(RouteRule.RoutingTable, [Arms[0]], [Arms[3]]));

        Assert.That(chosen, Is.EqualTo(Arms[3]), "the planner's (last) choice, not the nearest");
        Assert.That(recorder.Seen, Is.EqualTo(new DecisionPoint(self, key)));
        Assert.That(() => new PathPlannerHopAdapter(self, recorder).Choose(key, RouteDecision.DeliverHere), Throws.ArgumentException);
    }

    [Test]
    public void The_ring_adapter_keeps_state_for_at_most_the_configured_keys_and_forgets_the_least_recently_routed()
    {
        var recorder = new RecordingPlanner();
        var self = new NodeId(99);
        var adapter = new PathPlannerHopAdapter(self, recorder, maxPoints: 2);
        var decision = new RouteDecision(RouteRule.RoutingTable, [Arms[0]], [Arms[1]]);
        NodeId a = NodeId.FromName("a"), b = NodeId.FromName("b"), c = NodeId.FromName("c");

        adapter.Choose(a, decision);
        adapter.Choose(b, decision);
        adapter.Choose(a, decision);
        adapter.Choose(c, decision);
        adapter.ObserveHop(b, Arms[1].Address, TimeSpan.FromMilliseconds(5));

        Assert.That(adapter.TrackedPoints, Is.EqualTo(2));
        Assert.That(recorder.Forgotten, Is.EqualTo(new[] { new DecisionPoint(self, b) }), "b was routed least recently");
        Assert.That(recorder.Observed, Is.Zero, "an ack for a forgotten key teaches nothing");
        Assert.That(() => new PathPlannerHopAdapter(self, recorder, maxPoints: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>Tree: 0 is the root; 1, 2 under 0; 3 under 1; 4 under 3. Cap 2.</summary>
    private static FakeTree Tree() => new(new Dictionary<int, int> { [1] = 0, [2] = 0, [3] = 1, [4] = 3 });

    [Test]
    public void A_full_next_hop_is_skipped_unless_it_is_already_the_parent()
    {
        var tree = Tree();

        Assert.That(PathCandidates.Parents(5, [0, 2], tree, fanOutCap: 2), Is.EqualTo(new[] { 2 }), "0 has two children already");
        Assert.That(PathCandidates.Parents(1, [0, 2], tree, fanOutCap: 2), Is.EqualTo(new[] { 0, 2 }), "1 may keep its full parent");
    }

    [Test]
    public void A_node_in_the_childs_own_subtree_can_never_adopt_it()
    {
        Assert.That(PathCandidates.Parents(1, [4, 3, 2], Tree(), fanOutCap: 2), Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void When_every_next_hop_is_full_the_child_is_pushed_down_below_them()
    {
        var tree = Tree();

        Assert.That(PathCandidates.Parents(5, [0], tree, fanOutCap: 2), Is.EqualTo(new[] { 1, 2 }), "children of the full root with room");
        Assert.That(PathCandidates.Parents(3, [0], tree, fanOutCap: 2), Is.EqualTo(new[] { 1, 2 }), "3's parent 1 is not in 3's subtree");
        Assert.That(PathCandidates.Parents(1, [0], new FakeTree(new Dictionary<int, int> { [1] = 0, [2] = 0, [3] = 1, [4] = 3 }), fanOutCap: 2), Is.EqualTo(new[] { 0 }));
    }

    private sealed class RecordingPlanner : IPathPlanner
    {
        public void Forget(DecisionPoint point) => Forgotten.Add(point);

        public List<DecisionPoint> Forgotten { get; } = [];

        public DecisionPoint? Seen { get; private set; }

        public string Name => "recording";

        public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
        {
            Seen = point;
            return candidates[^1];
        }

        public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates) => candidates[0];

        public int Observed { get; private set; }

        public void Observe(DecisionPoint point, NodeId chosen, double cost) => Observed++;
    }

    private sealed class FakeTree(Dictionary<int, int> parents) : ITreeView
    {
        public int ParentOf(int node) => parents.GetValueOrDefault(node, -1);

        public int ChildCount(int node) => parents.Count(pair => pair.Value == node);

        public IEnumerable<int> ChildrenOf(int node) => parents.Where(pair => pair.Value == node).Select(pair => pair.Key).Order();

        public bool IsInSubtree(int node, int ancestor)
        {
            for (var at = node; at >= 0; at = ParentOf(at))
            {
                if (at == ancestor)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
