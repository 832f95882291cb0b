using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>In-process scenarios: forests over rings of hundreds of nodes built by joining, on virtual time.</summary>
public class ForestScenarioTests
{
    // FOREST_SEED overrides the seed to explore other runs; failures print the seed in use.
    private static readonly int Seed = int.Parse(Environment.GetEnvironmentVariable("FOREST_SEED") ?? "2024", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(12);

    internal static ForestWorld Build(int nodes, int zones = 1, ForestSettings? settings = null, int? seed = null)
    {
        var world = new ForestWorld(nodes, zones, seed ?? Seed, settings) { Contribution = (node, topic, round) => null };
        world.Build(TimeSpan.FromMilliseconds(100));
        return world;
    }

    internal static void SubscribeAll(ForestWorld world, TopicId topic, IEnumerable<int> members, int homeZone = 0)
    {
        foreach (var node in members)
        {
            world.Subscribe(node, topic, homeZone);
        }

        world.RunFor(TimeSpan.FromSeconds(10));
    }

    internal static FoldCompleted RunRound(ForestWorld world, TopicId topic, long round)
    {
        var root = world.RootOf(topic);
        Assert.That(root, Is.Not.Null, $"seed {world.Seed}: exactly one live root of {topic}");
        world.Publish(root!.Value, topic, round, new FoldRequest(round, VectorSum.Combiner.Kind, Budget));
        world.RunFor(Budget + TimeSpan.FromSeconds(3));
        var completed = world.Reports.Select(r => r.Report).OfType<FoldCompleted>().Where(f => f.Topic == topic && f.Round == round).ToList();
        Assert.That(completed, Has.Count.EqualTo(1), $"seed {world.Seed}: round {round} of {topic} completes once");
        return completed[0];
    }

    internal static void AssertFlatSum(ForestWorld world, FoldCompleted result, TopicId topic, IEnumerable<int> expectedContributors)
    {
        var expected = expectedContributors.Select(n => world.Ids[n]).Order().ToList();
        Assert.That(result.Contributors, Is.EqualTo(expected), $"seed {world.Seed}: contributors of round {result.Round}");
        var flat = VectorSum.Flat(expected.Select(id => VectorSum.For(id, topic, result.Round)));
        Assert.That((double[])result.Value, Is.EqualTo(flat).Within(1e-6), $"seed {world.Seed}: fold equals the flat sum");
    }

    private static int MaxFanOut(ForestWorld world, TopicId topic) =>
        world.LiveNodes.Select(n => world.Forest(n).Describe(topic)?.FanOut ?? 0).Max();

    [Test]
    public void Fold_at_the_root_equals_the_flat_sum_and_every_subscriber_gets_each_publish_once()
    {
        const int nodes = 300;
        var world = Build(nodes);
        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topic = TopicId.For("mnist");
        var members = Enumerable.Range(0, nodes).ToList();
        SubscribeAll(world, topic, members);

        Assert.That(world.RootOf(topic), Is.EqualTo(world.ClosestLiveInZone(topic.Key, 0)), "the root is the live node closest to the topic key");
        var depths = world.WalkToRoot(topic);
        Assert.That(depths.Keys, Is.SupersetOf(members), "every subscriber is attached");

        for (var round = 1; round <= 3; round++)
        {
            var result = RunRound(world, topic, round);
            AssertFlatSum(world, result, topic, members);
            Assert.That(result.ByDeadline, Is.False, "no part was missing, so the round did not wait for its deadline");
            var received = world.AppDeliveries.Where(d => d.Topic == topic && d.MessageId == round).GroupBy(d => d.Node).ToList();
            Assert.That(received.Select(g => g.Key).Order(), Is.EqualTo(members), "every subscriber received the publish");
            Assert.That(received.All(g => g.Count() == 1), Is.True, "exactly once");
        }

        var rootFanIn = world.Forest(world.RootOf(topic)!.Value).Describe(topic)!.FanOut;
        var bound = (int)Math.Ceiling(Math.Log(nodes, 16)) + 1;
        TestContext.Out.WriteLine($"seed {world.Seed}, N={nodes}: depth max {depths.Values.Max()} mean {depths.Values.Average():F2} (bound {bound}), root fan-in {rootFanIn}, max fan-out {MaxFanOut(world, topic)}, forwarders {world.LiveNodes.Count(n => world.Forest(n).Describe(topic)?.Role == TreeRole.Forwarder)}");
        Assert.That(rootFanIn, Is.LessThanOrEqualTo(ForestSettings.Default.FanOutCap));
        Assert.That(depths.Values.Max(), Is.LessThanOrEqualTo(bound));
        Assert.That(world.Abandoned, Is.Empty);
    }

    [Test]
    public void A_small_fan_out_cap_pushes_newcomers_down_and_no_walk_to_the_root_loops()
    {
        const int nodes = 200;
        const int cap = 4;
        var world = Build(nodes, settings: ForestSettings.Default with { FanOutCap = cap });
        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topic = TopicId.For("cifar");
        var members = Enumerable.Range(0, nodes).ToList();
        SubscribeAll(world, topic, members);

        var pushes = world.Sent.Count(s => s.Message is PushDown);
        var depths = world.WalkToRoot(topic);
        TestContext.Out.WriteLine($"seed {world.Seed}, N={nodes}, cap {cap}: {pushes} push-downs, depth max {depths.Values.Max()} mean {depths.Values.Average():F2}, max fan-out {MaxFanOut(world, topic)}");
        Assert.That(pushes, Is.GreaterThan(0), "the cap was reached, so newcomers were pushed down");
        Assert.That(MaxFanOut(world, topic), Is.LessThanOrEqualTo(cap));
        Assert.That(depths.Keys, Is.SupersetOf(members));
        AssertFlatSum(world, RunRound(world, topic, 1), topic, members);

        // Churn: crash a handful of interior nodes; the orphans re-subscribe, the cap still holds and nothing loops.
        var interior = members.Where(n => world.Forest(n).Describe(topic) is { FanOut: > 0, Role: not TreeRole.Root }).Take(5).ToList();
        foreach (var node in interior)
        {
            world.Crash(node);
        }

        world.RunFor(TimeSpan.FromSeconds(20));
        var survivors = members.Except(interior).ToList();
        Assert.That(world.WalkToRoot(topic).Keys, Is.SupersetOf(survivors), $"seed {world.Seed}: every survivor re-attached without a loop");
        Assert.That(MaxFanOut(world, topic), Is.LessThanOrEqualTo(cap));
        AssertFlatSum(world, RunRound(world, topic, 2), topic, survivors);
    }

    [Test]
    public void Hundred_topics_on_five_hundred_nodes_fold_and_deliver_independently()
    {
        const int nodes = 500;
        const int topicCount = 100;
        var world = Build(nodes);
        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topics = Enumerable.Range(0, topicCount).Select(i => TopicId.For("app" + i)).ToList();
        var random = new Random(world.Seed);
        var subscribers = topics.ToDictionary(t => t, _ => new SortedSet<int>());
        for (var node = 0; node < nodes; node++)
        {
            foreach (var index in Enumerable.Range(0, 2).Select(_ => random.Next(topicCount)).Distinct())
            {
                subscribers[topics[index]].Add(node);
                world.Subscribe(node, topics[index]);
            }
        }

        world.RunFor(TimeSpan.FromSeconds(10));
        foreach (var topic in topics.Where(t => subscribers[t].Count > 0))
        {
            world.Publish(world.RootOf(topic)!.Value, topic, 1, new FoldRequest(1, VectorSum.Combiner.Kind, Budget));
        }

        world.RunFor(Budget + TimeSpan.FromSeconds(3));
        var completed = world.Reports.Select(r => r.Report).OfType<FoldCompleted>().ToList();
        Assert.That(completed.Select(c => c.Topic), Is.EquivalentTo(topics.Where(t => subscribers[t].Count > 0)), "each topic's round completed once");
        foreach (var result in completed)
        {
            AssertFlatSum(world, result, result.Topic, subscribers[result.Topic]);
            var receivers = world.AppDeliveries.Where(d => d.Topic == result.Topic).Select(d => d.Node).ToList();
            Assert.That(receivers, Is.EquivalentTo(subscribers[result.Topic]), $"{result.Topic}: only its subscribers got its publish, each once");
        }

        // Checked on arrival: a relay may leave its tree (bypass) after a round, so the final trees are not the test.
        Assert.That(world.Strays, Is.Empty, "multicasts and partials travel only between members of their own topic's tree");
        var nodesPerTopic = topics.Average(t => world.LiveNodes.Count(n => world.Forest(n).Trees.ContainsKey(t)));
        TestContext.Out.WriteLine($"seed {world.Seed}: {topicCount} topics on {nodes} nodes, mean subscribers {subscribers.Values.Average(s => s.Count):F1}, mean tree size {nodesPerTopic:F1}, max trees per node {world.LiveNodes.Max(n => world.Forest(n).Trees.Count)}");
    }

    /// <param name="failureNoticedQuickly">
    /// True: the dead forwarder's parent learns of the crash within a second (a failed heartbeat send) and stops
    /// waiting. False: nothing reports the crash before the deadline, which alone closes the round.
    /// </param>
    [TestCase(true)]
    [TestCase(false)]
    public void A_forwarder_crash_mid_round_completes_with_the_survivors_and_the_next_round_includes_its_orphans(bool failureNoticedQuickly)
    {
        const int nodes = 200;
        var world = Build(nodes);
        if (!failureNoticedQuickly)
        {
            world.ForestFailureDelay = TimeSpan.FromSeconds(30);
            world.ReportRingPeerFailures = false;
        }

        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topic = TopicId.For("speech");
        var members = Enumerable.Range(0, nodes).ToList();
        SubscribeAll(world, topic, members);

        var victim = members.Where(n => world.Forest(n).Describe(topic) is { Role: not TreeRole.Root, FanOut: > 0 })
            .MaxBy(n => world.Forest(n).Describe(topic)!.SubtreeSize);
        var orphans = members.Where(n => n != victim && world.WalkToRootPath(topic, n).Contains(victim)).ToList();
        Assert.That(orphans, Is.Not.Empty);

        var root = world.RootOf(topic)!.Value;
        world.Publish(root, topic, 1, new FoldRequest(1, VectorSum.Combiner.Kind, Budget));
        world.RunFor(TimeSpan.FromMilliseconds(150));
        world.Crash(victim);
        world.RunFor(Budget + TimeSpan.FromSeconds(3));
        var first = world.Reports.Select(r => r.Report).OfType<FoldCompleted>().Single(f => f.Topic == topic && f.Round == 1);
        var survivorsOutsideTheSubtree = members.Except(orphans).Where(n => n != victim).ToList();
        AssertFlatSum(world, first, topic, survivorsOutsideTheSubtree);
        Assert.That(first.ByDeadline, Is.EqualTo(!failureNoticedQuickly), "the round closed early only if the crash was noticed");
        TestContext.Out.WriteLine($"seed {world.Seed}: crashed forwarder with {orphans.Count} descendants; round 1 completed {(first.ByDeadline ? "at its deadline" : "once the dead child was dropped")} with {first.Contributors.Length} contributors");

        world.RunFor(TimeSpan.FromSeconds(failureNoticedQuickly ? 10 : 30));
        var survivors = members.Where(n => n != victim).ToList();
        Assert.That(world.WalkToRoot(topic).Keys, Is.SupersetOf(survivors), "the orphaned subtree re-attached");
        AssertFlatSum(world, RunRound(world, topic, 2), topic, survivors);
    }

    [Test]
    public void When_the_root_dies_the_next_closest_node_becomes_root_and_the_next_round_completes()
    {
        const int nodes = 200;
        var world = Build(nodes);
        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topic = TopicId.For("vision");
        var members = Enumerable.Range(0, nodes).ToList();
        SubscribeAll(world, topic, members);
        AssertFlatSum(world, RunRound(world, topic, 1), topic, members);

        var oldRoot = world.RootOf(topic)!.Value;
        world.Crash(oldRoot);
        world.RunFor(TimeSpan.FromSeconds(20));
        var expected = world.ClosestLiveInZone(topic.Key, 0);
        Assert.That(world.RootOf(topic), Is.EqualTo(expected), $"seed {world.Seed}: the next-closest live node is the root");
        Assert.That(world.Reports.Any(r => r.Node == expected && r.Report is BecameRoot { IsZoneHead: false } b && b.Topic == topic), Is.True, "it reported becoming root");
        var survivors = members.Where(n => n != oldRoot).ToList();
        Assert.That(world.WalkToRoot(topic).Keys, Is.SupersetOf(survivors), "the tree re-formed under the new root");
        AssertFlatSum(world, RunRound(world, topic, 2), topic, survivors);
    }

    [Test]
    public void Zone_subtrees_cross_zones_once_per_zone_per_round()
    {
        const int nodes = 240;
        const int zones = 4;
        const int home = 0;
        var world = Build(nodes, zones);
        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topic = TopicId.For("keyboard");
        var members = Enumerable.Range(0, nodes).ToList();
        SubscribeAll(world, topic, members, home);
        world.RunFor(TimeSpan.FromSeconds(10));

        var heads = world.LiveNodes.Where(n => world.Forest(n).Describe(topic)?.Role == TreeRole.ZoneHead).ToList();
        Assert.That(heads.Select(world.ZoneOf).Order(), Is.EqualTo(Enumerable.Range(1, zones - 1)), $"seed {world.Seed}: one head per non-home zone");
        Assert.That(heads.Select(h => world.ZoneOf(world.Forest(h).Trees[topic].Parent!.Value.Address.Value)), Is.All.EqualTo(home), "heads hang below home-zone nodes");
        Assert.That(world.WalkToRoot(topic).Keys, Is.SupersetOf(members));

        for (var round = 1; round <= 2; round++)
        {
            var sentBefore = world.Sent.Count;
            AssertFlatSum(world, RunRound(world, topic, round), topic, members);
            var crossings = world.Sent.Skip(sentBefore).Where(s => world.ZoneOf(s.From) != world.ZoneOf(s.To)).ToList();
            var upward = crossings.Where(s => s.Message is FoldPartial p && p.Round == round).Select(s => world.ZoneOf(s.From)).Order();
            var downward = crossings.Where(s => s.Message is Multicast m && m.MessageId == round).Select(s => world.ZoneOf(s.To)).Order();
            Assert.That(upward, Is.EqualTo(Enumerable.Range(1, zones - 1)), "one fold partial leaves each non-home zone");
            Assert.That(downward, Is.EqualTo(Enumerable.Range(1, zones - 1)), "one copy of the publish enters each non-home zone");
        }
    }
}
