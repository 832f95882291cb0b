using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>The forest's push-down choice through a path planner: trees stay valid (cap, no loops, everyone reached).</summary>
public class ForestPlannerTests
{
    /// <summary>
    /// Fold budget. Push-down at cap 4 builds chains here (depth 10–12 of 60 members, depending on which ring routes the
    /// subscriptions take), and each level takes <see cref="ForestSettings.LevelSlack"/> (1 s) off the budget, so 10 s
    /// left no time for the deepest levels; this test is about validity (cap, no loops, everyone reached and folded).
    /// </summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    [TestCase("static")]
    [TestCase("bandit")]
    [TestCase("game")]
    public void A_planner_backed_push_down_keeps_the_cap_and_a_loop_free_tree_that_reaches_every_member(string planner)
    {
        const int Cap = 4;
        var kind = PathPlanners.Parse(planner);
        var choosers = new List<CountingChooser>();
        var cluster = ForestCluster.Build(60, 31, ForestSettings.Default with { FanOutCap = Cap }, pushDown: self =>
        {
            var chooser = new CountingChooser(new PlannerPushDownChooser(PathPlanners.Create(kind, PlanningSettings.Default, new Random(choosers.Count + 1))));
            choosers.Add(chooser);
            return chooser;
        });
        var topic = TopicId.For("planned");
        var members = cluster.Live.ToList();
        cluster.Create(members[0], topic);
        members.ForEach(node => cluster.Subscribe(node, topic));
        cluster.Advance(TimeSpan.FromSeconds(15));

        var depths = cluster.WalkToRoot(topic);
        Assert.That(depths.Keys, Is.SupersetOf(members), $"{planner}: every member is attached, no loop");
        Assert.That(members.Max(node => cluster.StateOf(node).Trees[topic].Children.Length), Is.LessThanOrEqualTo(Cap));
        Assert.That(choosers.Sum(c => c.Pushes), Is.GreaterThan(0), "full nodes pushed down through the planner");
        cluster.Publish(cluster.Ring.ClosestLive(topic.Key), topic, 1, 1, Budget);
        cluster.Advance(TimeSpan.FromSeconds(30));
        Assert.That(cluster.Recorder.Deliveries.Where(d => d.Topic == topic).Select(d => d.Node).Order(), Is.EqualTo(members.Order()));
        Assert.That(cluster.Recorder.Folds(topic).Single(f => f.Round == 1).Contributors, Has.Length.EqualTo(members.Count));
        var latencies = choosers.SelectMany(c => c.Latencies).ToList();
        Assert.That(latencies, Is.Not.Empty, "children's fold reports reached the planners as feedback");
        Assert.That(latencies, Is.All.GreaterThanOrEqualTo(TimeSpan.Zero).And.LessThanOrEqualTo(Budget));
    }

    [Test]
    public void The_default_chooser_prefers_the_longest_shared_prefix_then_the_smallest_subtree()
    {
        var subscriber = new NodeHandle(new NodeId(UInt128.Parse("f0000000000000000000000000000000", System.Globalization.NumberStyles.HexNumber, null)), new NodeAddress(9));
        ChildInfo Child(string hex, int address, int size) =>
            new(new NodeHandle(new NodeId(UInt128.Parse(hex, System.Globalization.NumberStyles.HexNumber, null)), new NodeAddress(address)), 0, size);
        var far = Child("00000000000000000000000000000001", 1, 1);
        var nearBig = Child("f8000000000000000000000000000000", 2, 9);
        var nearSmall = Child("f9000000000000000000000000000000", 3, 2);
        var shorterPrefix = Child("c0000000000000000000000000000000", 4, 1);
        var chosen = PrefixPushDownChooser.Instance.Choose(subscriber, TopicId.For("t"), subscriber, [far, shorterPrefix, nearBig, nearSmall]);
        Assert.That(chosen, Is.EqualTo(nearSmall));
    }

    [Test]
    public void The_planner_chooser_returns_one_of_the_children_and_rejects_none()
    {
        var self = new NodeHandle(NodeId.FromName("self"), new NodeAddress(0));
        var children = Enumerable.Range(1, 3).Select(i => new ChildInfo(new NodeHandle(NodeId.FromName($"c{i}"), new NodeAddress(i)), 0, 1)).ToImmutableArray();
        var chooser = new PlannerPushDownChooser(new BanditPlanner(BanditSettings.Default));
        Assert.That(children, Does.Contain(chooser.Choose(self, TopicId.For("t"), self, children)));
        Assert.That(() => chooser.Choose(self, TopicId.For("t"), self, []), Throws.ArgumentException);
    }

    private sealed class CountingChooser(IPushDownChooser inner) : IPushDownChooser
    {
        public int Pushes { get; private set; }

        public List<TimeSpan> Latencies { get; } = [];

        public bool Learns => inner.Learns;

        public void Observe(NodeHandle self, TopicId topic, NodeId child, TimeSpan latency)
        {
            Latencies.Add(latency);
            inner.Observe(self, topic, child, latency);
        }

        public ChildInfo Choose(NodeHandle self, TopicId topic, NodeHandle subscriber, ImmutableArray<ChildInfo> children)
        {
            Pushes++;
            return inner.Choose(self, topic, subscriber, children);
        }
    }
}
