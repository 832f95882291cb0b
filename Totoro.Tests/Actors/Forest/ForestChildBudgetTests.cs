using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// The cross-tree child budget (<c>totoro.forest.node-child-budget</c>): a node that keeps its budget of children over
/// all its trees lets passing subscribes continue toward the root instead of becoming interior in yet another tree.
/// </summary>
public class ForestChildBudgetTests
{
    private static readonly TopicId Topic = TopicId.For("unit");
    private static readonly TopicId Other = TopicId.For("other");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);

    private static NodeHandle H(int i) => new(NodeId.FromName("node" + i), new NodeAddress(i));

    private static ForestSettings WithBudget(int budget) => ForestSettings.Default with { NodeChildBudget = budget };

    private static SubscribeRequest Sub(int i, TopicId topic) => new(topic, 0, 0, H(i), 0, 1);

    private static RouteContext Routed(ForestMessage payload, NodeId key) => new(key, payload, null, 1, []);

    /// <summary>Node <paramref name="i"/> after forwarding <paramref name="children"/> subscribes of <see cref="Other"/>: a forwarder of Other with that many children.</summary>
    private static ForestState ForwarderOfOther(int i, ForestSettings settings, params int[] children)
    {
        var state = ForestState.Create(H(i), 0, settings, new FoldCombiners([VectorSum.Combiner])).State;
        foreach (var child in children)
        {
            state = state.OnForward(Routed(Sub(child, Other), Other.Key), T0).Step.State;
        }

        Assert.That(state.Describe(Other)!.FanOut, Is.EqualTo(children.Length));
        return state;
    }

    [Test]
    public void A_node_at_its_budget_does_not_become_a_forwarder_of_another_tree_and_the_subscribe_continues()
    {
        var loaded = ForwarderOfOther(1, WithBudget(2), 5, 6);

        var (step, verdict) = loaded.OnForward(Routed(Sub(9, Topic), Topic.Key), T0);

        Assert.That(verdict, Is.EqualTo(ForwardVerdict.Continue), "the route goes on toward the key; the next hop adopts");
        Assert.That(step.Effects, Is.Empty);
        Assert.That(step.State.Describe(Topic), Is.Null, "not made interior (nor a member) of the new tree");
        Assert.That(step.State.ChildLoad, Is.EqualTo(2));

        // Without the budget (and below it) the same node adopts and forwards, as Scribe does.
        foreach (var settings in new[] { WithBudget(0), WithBudget(3) })
        {
            var (free, freeVerdict) = ForwarderOfOther(1, settings, 5, 6).OnForward(Routed(Sub(9, Topic), Topic.Key), T0);
            Assert.That(freeVerdict, Is.TypeOf<ForwardVerdict.ReplaceVerdict>(), $"budget {settings.NodeChildBudget}");
            Assert.That(free.State.Describe(Topic)!.Role, Is.EqualTo(TreeRole.Forwarder));
        }
    }

    [Test]
    public void A_member_at_its_budget_lets_a_newcomer_continue_but_still_refreshes_an_existing_child()
    {
        // Node 1 forwards Topic for node 7 first, then Other for nodes 5 and 6: its other-tree load for Topic is 2.
        var state = ForestState.Create(H(1), 0, WithBudget(2), new FoldCombiners([VectorSum.Combiner])).State;
        state = state.OnForward(Routed(Sub(7, Topic), Topic.Key), T0).Step.State;
        state = state.OnForward(Routed(Sub(5, Other), Other.Key), T0).Step.State;
        state = state.OnForward(Routed(Sub(6, Other), Other.Key), T0).Step.State;
        Assert.That(state.Describe(Other)!.FanOut, Is.EqualTo(2), "precondition: Topic's one child is below the budget");

        var (_, newcomer) = state.OnForward(Routed(Sub(8, Topic), Topic.Key), T0);
        Assert.That(newcomer, Is.EqualTo(ForwardVerdict.Continue), "two children in another tree: no new child in Topic");

        var (refresh, again) = state.OnForward(Routed(Sub(7, Topic), Topic.Key), T0);
        Assert.That(again, Is.EqualTo(ForwardVerdict.Absorb), "a child re-subscribing through its parent costs nothing new");
        Assert.That(refresh.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<SubscribeAccepted>());
        Assert.That(refresh.State.Describe(Topic)!.FanOut, Is.EqualTo(1));

        // Other's own children do not count against Other: Topic's one child is below the budget, so it adopts a third.
        var (grown, same) = state.OnForward(Routed(Sub(9, Other), Other.Key), T0);
        Assert.That(same, Is.EqualTo(ForwardVerdict.Absorb));
        Assert.That(grown.State.Describe(Other)!.FanOut, Is.EqualTo(3));
    }

    [Test]
    public void A_single_tree_is_shaped_as_without_a_budget()
    {
        var budgeted = ForestState.Create(H(1), 0, WithBudget(1), new FoldCombiners([VectorSum.Combiner])).State;
        foreach (var child in new[] { 5, 6, 7, 8 })
        {
            var (step, verdict) = budgeted.OnForward(Routed(Sub(child, Topic), Topic.Key), T0);
            Assert.That(verdict, Is.Not.EqualTo(ForwardVerdict.Continue), $"child {child}: the tree's own load never counts");
            budgeted = step.State;
        }

        Assert.That(budgeted.Describe(Topic)!.FanOut, Is.EqualTo(4));
    }

    [Test]
    public void The_root_always_accepts_and_a_member_a_full_parent_pushes_down_to_adopts_over_budget()
    {
        // The root of Topic is at its budget through Other, yet takes children of its own topic up to the fan-out cap.
        var root = ForwarderOfOther(1, WithBudget(2), 5, 6);
        root = root.OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        foreach (var child in new[] { 10, 11, 12 })
        {
            root = root.OnDeliver(Routed(Sub(child, Topic), Topic.Key), T0).State;
        }

        Assert.That(root.Describe(Topic)!.Role, Is.EqualTo(TreeRole.Root));
        Assert.That(root.Describe(Topic)!.FanOut, Is.EqualTo(3));
        Assert.That(root.ChildLoad, Is.EqualTo(5));

        // A member of Topic at its budget: push-down is the parent's choice inside the tree, so it adopts (cap permitting).
        var member = ForwarderOfOther(3, WithBudget(2), 5, 6).Subscribe(Topic, 0, T0).State;
        member = member.Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0).State;
        var pushed = member.Handle(new PushDown(Topic, Sub(9, Topic)), T0);
        var accept = pushed.Effects.OfType<SendToPeer>().Single();
        Assert.That(accept.To, Is.EqualTo(H(9).Address));
        Assert.That(accept.Message, Is.TypeOf<SubscribeAccepted>());
        Assert.That(pushed.State.Describe(Topic)!.FanOut, Is.EqualTo(1));
    }

    [Test]
    public void A_member_at_its_budget_with_children_in_the_tree_passes_a_pushed_down_newcomer_further_down()
    {
        // Node 3: forwarder of Other with 2 children (its budget), member of Topic below node 1, with one child (node 4) in Topic.
        var member = ForwarderOfOther(3, WithBudget(2), 5, 6).Subscribe(Topic, 0, T0).State;
        member = member.Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0).State;
        member = member.Handle(new PushDown(Topic, Sub(4, Topic)), T0).State;
        Assert.That(member.Describe(Topic)!.FanOut, Is.EqualTo(1), "a leaf of the tree adopts even at its budget");

        var pushed = member.Handle(new PushDown(Topic, Sub(9, Topic)), T0);

        var onward = pushed.Effects.OfType<SendToPeer>().Single();
        Assert.That(onward.To, Is.EqualTo(H(4).Address), "handed down to its child, below it");
        Assert.That(((PushDown)onward.Message).Request.Subscriber, Is.EqualTo(H(9)));
        Assert.That(pushed.State.Describe(Topic)!.FanOut, Is.EqualTo(1));

        // Without the budget it adopts (its fan-out cap is far away).
        var free = ForwarderOfOther(3, WithBudget(0), 5, 6).Subscribe(Topic, 0, T0).State;
        free = free.Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0).State;
        free = free.Handle(new PushDown(Topic, Sub(4, Topic)), T0).State;
        Assert.That(free.Handle(new PushDown(Topic, Sub(9, Topic)), T0).State.Describe(Topic)!.FanOut, Is.EqualTo(2));
    }

    [Test]
    public void A_root_reserves_its_fan_out_cap_and_forwards_for_no_other_tree_once_that_reaches_the_budget()
    {
        var settings = WithBudget(8) with { FanOutCap = 8 };
        var root = ForestState.Create(H(1), 0, settings, new FoldCombiners([VectorSum.Combiner])).State;
        root = root.OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        root = root.OnDeliver(Routed(Sub(10, Topic), Topic.Key), T0).State;
        Assert.That(root.ChildLoad, Is.EqualTo(1));
        Assert.That(root.OtherTreesLoad(Other), Is.EqualTo(8), "its own tree counts as full: the root must accept up to the cap");
        Assert.That(root.OtherTreesLoad(Topic), Is.Zero, "a tree's own children never count against it");

        var (step, verdict) = root.OnForward(Routed(Sub(9, Other), Other.Key), T0);
        Assert.That(verdict, Is.EqualTo(ForwardVerdict.Continue));
        Assert.That(step.State.Describe(Other), Is.Null);

        // With a budget above the reservation it still forwards.
        var roomy = ForestState.Create(H(1), 0, WithBudget(9) with { FanOutCap = 8 }, new FoldCombiners([VectorSum.Combiner])).State
            .OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        Assert.That(roomy.OnForward(Routed(Sub(9, Other), Other.Key), T0).Verdict, Is.TypeOf<ForwardVerdict.ReplaceVerdict>());
    }

    /// <summary>Node 1 as home root of <see cref="Topic"/> with <paramref name="children"/> of its own zone, then home root of <see cref="Other"/>.</summary>
    private static ForestState RootOfBoth(ForestSettings settings, params int[] children)
    {
        var state = ForestState.Create(H(1), 0, settings, new FoldCombiners([VectorSum.Combiner])).State;
        state = state.OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        foreach (var child in children)
        {
            state = state.OnDeliver(Routed(Sub(child, Topic), Topic.Key), T0).State;
        }

        return state.OnDeliver(Routed(new CreateTopicRequest(Other, 0), Other.Key), T0).State;
    }

    [Test]
    public void A_node_rooting_two_trees_keeps_the_budget_of_children_in_the_second_and_pushes_newcomers_below_them()
    {
        var settings = WithBudget(2) with { FanOutCap = 8 };
        var root = RootOfBoth(settings, 10, 11, 12);
        root = root.OnDeliver(Routed(Sub(20, Other), Other.Key), T0).State;
        root = root.OnDeliver(Routed(Sub(21, Other), Other.Key), T0).State;
        Assert.That(root.Describe(Other)!.FanOut, Is.EqualTo(2), "below the budget the second tree adopts like any root");

        var third = root.OnDeliver(Routed(Sub(22, Other), Other.Key), T0);

        var push = third.Effects.OfType<SendToPeer>().Single();
        Assert.That(push.Message, Is.TypeOf<PushDown>(), "at the budget the newcomer goes one level down, not to this uplink");
        Assert.That(push.To, Is.AnyOf(H(20).Address, H(21).Address));
        Assert.That(((PushDown)push.Message).Request.Subscriber, Is.EqualTo(H(22)));
        Assert.That(third.State.Describe(Other)!.FanOut, Is.EqualTo(2));

        // The first tree still takes its fan-out cap, and a zone head of another zone is always adopted by the second.
        var first = third.State.OnDeliver(Routed(Sub(13, Topic), Topic.Key), T0);
        Assert.That(first.State.Describe(Topic)!.FanOut, Is.EqualTo(4));
        var head = first.State.OnDeliver(Routed(new SubscribeRequest(Other, 0, 0, H(30), 1, 5), Other.Key), T0);
        Assert.That(head.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<SubscribeAccepted>());
        Assert.That(head.State.Describe(Other)!.FanOut, Is.EqualTo(3));

        // Without the budget (0) the second tree adopts up to the cap, as before.
        var free = RootOfBoth(WithBudget(0) with { FanOutCap = 8 }, 10, 11, 12);
        foreach (var child in new[] { 20, 21, 22 })
        {
            free = free.OnDeliver(Routed(Sub(child, Other), Other.Key), T0).State;
        }

        Assert.That(free.Describe(Other)!.FanOut, Is.EqualTo(3));
    }

    [Test]
    public void Of_two_trees_a_node_roots_a_home_root_comes_before_a_zone_head_and_then_the_larger_tree()
    {
        var settings = WithBudget(2) with { FanOutCap = 8 };

        // Node 1 of zone 1: zone head of Other (homed in zone 0) with four children, then home root of Topic (homed in zone 1).
        var node = ForestState.Create(H(1), 1, settings, new FoldCombiners([VectorSum.Combiner])).State;
        foreach (var child in new[] { 20, 21, 22, 23 })
        {
            node = node.OnDeliver(Routed(new SubscribeRequest(Other, 0, 1, H(child), 1, 1), Other.KeyIn(1, 0)), T0).State;
        }

        Assert.That(node.Describe(Other)!.Role, Is.EqualTo(TreeRole.ZoneHead));
        Assert.That(node.Describe(Other)!.FanOut, Is.EqualTo(4));
        foreach (var child in new[] { 10, 11, 12 })
        {
            node = node.OnDeliver(Routed(new SubscribeRequest(Topic, 1, 1, H(child), 1, 1), Topic.KeyIn(1, 1)), T0).State;
        }

        Assert.That(node.Describe(Topic)!.FanOut, Is.EqualTo(3), "the home root takes the full fan-out although its tree is smaller");
        var late = node.OnDeliver(Routed(new SubscribeRequest(Other, 0, 1, H(24), 1, 1), Other.KeyIn(1, 0)), T0);
        Assert.That(late.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<PushDown>(), "the zone head keeps what it has and pushes down");
        Assert.That(late.State.Describe(Other)!.FanOut, Is.EqualTo(4));

        // A member of Other's home zone that a full home-tree node pushed down here counts too; another zone's head does not.
        var homeMember = node.Handle(new PushDown(Other, new SubscribeRequest(Other, 0, 0, H(25), 0, 1)), T0);
        Assert.That(homeMember.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<PushDown>());
        var otherHead = node.Handle(new PushDown(Other, new SubscribeRequest(Other, 0, 0, H(26), 2, 4)), T0);
        Assert.That(otherHead.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<SubscribeAccepted>());
        Assert.That(otherHead.State.Describe(Other)!.FanOut, Is.EqualTo(5));

        // Two trees rooted alike: the one with more children keeps growing; the other stops at the budget.
        var twoRoots = RootOfBoth(settings, 10, 11, 12);
        twoRoots = twoRoots.OnDeliver(Routed(Sub(20, Other), Other.Key), T0).State;
        twoRoots = twoRoots.OnDeliver(Routed(Sub(21, Other), Other.Key), T0).State;
        var grows = twoRoots.OnDeliver(Routed(Sub(14, Topic), Topic.Key), T0);
        Assert.That(grows.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<SubscribeAccepted>());
    }

    [Test]
    public void A_negative_budget_is_refused_naming_its_key()
    {
        Assert.That(
            () => WithBudget(-1).Validated(),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.forest.node-child-budget"));
        Assert.That(WithBudget(0).Validated().NodeChildBudget, Is.Zero);
        Assert.That(ForestSettings.Default.NodeChildBudget, Is.EqualTo(ForestSettings.DefaultNodeChildBudget));
    }

    /// <summary>
    /// Twenty topics of 15 disjoint subscribers each on 300 nodes, joined interleaved as in sim fl, fan-out cap 8: with the budget no node
    /// forwards in more trees than its budget (without it, some node does), and every tree still folds each subscriber
    /// exactly once.
    /// </summary>
    [Test]
    [Category("Simulation")]
    public void With_the_budget_fewer_trees_share_an_interior_node_and_every_tree_still_folds_exactly_once()
    {
        var (free, _) = Grow(WithBudget(0) with { FanOutCap = 8 });
        var (budgeted, subscribers) = Grow(WithBudget(2) with { FanOutCap = 8 });

        var budget = budgeted.Forest(0).Settings.NodeChildBudget;
        var forwardingFree = MaxForwarderTrees(free, subscribers.Keys);
        var forwardingBudgeted = MaxForwarderTrees(budgeted, subscribers.Keys);
        TestContext.Out.WriteLine(
            $"seed {budgeted.Seed}: most trees one node forwards in (not subscribed, not root) {forwardingFree} without the budget, {forwardingBudgeted} with budget {budget}; " +
            $"most trees one non-root node is interior in {MaxInteriorTrees(free, subscribers.Keys)} → {MaxInteriorTrees(budgeted, subscribers.Keys)}; most children per node {MaxLoad(free)} → {MaxLoad(budgeted)}");

        // A node becomes a forwarder of a tree only while below its budget, and each of its forwarder trees keeps ≥ 1 child.
        Assert.That(forwardingBudgeted, Is.LessThanOrEqualTo(budget));
        Assert.That(forwardingFree, Is.GreaterThan(budget), "the scenario loads some node beyond the budget without the mechanism");

        budgeted.Contribution = (node, topic, round) => VectorSum.For(budgeted.Ids[node], topic, round);
        foreach (var (topic, members) in subscribers)
        {
            Assert.That(budgeted.WalkToRoot(topic).Keys, Is.SupersetOf(members), $"{topic}: every subscriber attached, no loop");
            var result = ForestScenarioTests.RunRound(budgeted, topic, 1);
            ForestScenarioTests.AssertFlatSum(budgeted, result, topic, members);
            var received = budgeted.AppDeliveries.Where(d => d.Topic == topic).Select(d => d.Node).ToList();
            Assert.That(received, Is.EquivalentTo(members), $"{topic}: each subscriber got the publish once");
        }

        Assert.That(budgeted.Abandoned, Is.Empty);
    }

    /// <summary>
    /// Two topics whose keys fall on one root (searched by name on a 60-node ring), 24 disjoint subscribers each, joined
    /// interleaved, fan-out cap 8: with the budget the shared root keeps the cap in one tree and the budget in the other,
    /// and both trees still fold every subscriber exactly once. Without it the root keeps more than the budget in both.
    /// </summary>
    [Test]
    [Category("Simulation")]
    public void Two_trees_rooted_on_one_node_share_its_uplink_by_the_budget_and_still_fold_exactly_once()
    {
        var settings = WithBudget(2) with { FanOutCap = 8 };
        var (budgeted, topics, root) = GrowSharedRoot(settings);
        var (free, _, _) = GrowSharedRoot(WithBudget(0) with { FanOutCap = 8 });

        var fanOuts = topics.Keys.Select(t => budgeted.Forest(root).Describe(t)!.FanOut).OrderDescending().ToList();
        var freeFanOuts = topics.Keys.Select(t => free.Forest(root).Describe(t)!.FanOut).OrderDescending().ToList();
        TestContext.Out.WriteLine($"shared root {root}: fan-outs {string.Join("/", freeFanOuts)} without the budget, {string.Join("/", fanOuts)} with budget 2");
        Assert.That(freeFanOuts, Is.All.GreaterThan(2), "the scenario loads the shared root beyond the budget in both trees without the mechanism");
        Assert.That(fanOuts[0], Is.EqualTo(8), "the first tree keeps the fan-out cap");
        Assert.That(fanOuts[1], Is.EqualTo(2), "the second keeps the budget");

        budgeted.Contribution = (node, topic, round) => VectorSum.For(budgeted.Ids[node], topic, round);
        foreach (var (topic, members) in topics)
        {
            Assert.That(budgeted.RootOf(topic), Is.EqualTo(root));
            var result = ForestScenarioTests.RunRound(budgeted, topic, 1);
            ForestScenarioTests.AssertFlatSum(budgeted, result, topic, members);
        }

        Assert.That(budgeted.Abandoned, Is.Empty);
    }

    private static (ForestWorld World, Dictionary<TopicId, List<int>> Subscribers, int Root) GrowSharedRoot(ForestSettings settings)
    {
        const int nodes = 60;
        const int per = 24;
        var world = ForestScenarioTests.Build(nodes, settings: settings, seed: 5);
        var byRoot = new Dictionary<int, TopicId>();
        TopicId first = default, second = default;
        for (var i = 0; ; i++)
        {
            var topic = TopicId.For("shared-root" + i);
            var closest = world.ClosestLiveInZone(topic.Key, 0);
            if (byRoot.TryGetValue(closest, out var earlier))
            {
                (first, second) = (earlier, topic);
                break;
            }

            byRoot[closest] = topic;
        }

        var root = world.ClosestLiveInZone(first.Key, 0);
        var others = Enumerable.Range(0, nodes).Where(n => n != root).ToList();
        var topics = new Dictionary<TopicId, List<int>> { [first] = others.GetRange(0, per), [second] = others.GetRange(per, per) };
        for (var k = 0; k < per; k++)
        {
            foreach (var (topic, members) in topics)
            {
                world.Subscribe(members[k], topic);
                world.RunFor(TimeSpan.FromMilliseconds(20));
            }
        }

        world.RunFor(TimeSpan.FromSeconds(10));
        return (world, topics, root);
    }

    private static (ForestWorld World, Dictionary<TopicId, List<int>> Subscribers) Grow(ForestSettings settings)
    {
        const int nodes = 300;
        const int per = 15;
        var world = ForestScenarioTests.Build(nodes, settings: settings, seed: 11);
        var shuffled = Enumerable.Range(0, nodes).OrderBy(n => (n * 7919) % nodes).ToList();
        var subscribers = Enumerable.Range(0, 20).ToDictionary(i => TopicId.For("budget-app" + i), i => shuffled.GetRange(i * per, per));

        // Interleaved as in sim fl: the first subscriber of every topic, then the second of every topic, and so on.
        for (var k = 0; k < per; k++)
        {
            foreach (var (topic, members) in subscribers)
            {
                world.Subscribe(members[k], topic);
                world.RunFor(TimeSpan.FromMilliseconds(20));
            }
        }

        world.RunFor(TimeSpan.FromSeconds(10));
        return (world, subscribers);
    }

    private static int MaxInteriorTrees(ForestWorld world, IEnumerable<TopicId> topics) =>
        world.LiveNodes.Max(n => topics.Count(t => world.Forest(n).Describe(t) is { FanOut: > 0, Role: not TreeRole.Root }));

    private static int MaxForwarderTrees(ForestWorld world, IEnumerable<TopicId> topics) =>
        world.LiveNodes.Max(n => topics.Count(t => world.Forest(n).Describe(t) is { Role: TreeRole.Forwarder }));

    private static int MaxLoad(ForestWorld world) => world.LiveNodes.Max(n => world.Forest(n).ChildLoad);
}
