using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// Relay bypass (<c>totoro.forest.relay-bypass-after</c>): a forwarder that relays for one child alone hands the child
/// to its own parent and leaves, so Scribe's first-hop relays stop costing every round one tree level.
/// </summary>
public class ForestBypassTests
{
    private static readonly TopicId Topic = TopicId.For("unit");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan After = ForestSettings.Default.RelayBypassAfter;

    private static NodeHandle H(int i) => new(NodeId.FromName("node" + i), new NodeAddress(i));

    private static SubscribeRequest Sub(int i) => new(Topic, 0, 0, H(i), 0, 1);

    private static RouteContext Routed(ForestMessage payload, NodeId key) => new(key, payload, null, 1, []);

    private static ForestState Node(int i, ForestSettings? settings = null) =>
        ForestState.Create(H(i), 0, settings ?? ForestSettings.Default, new FoldCombiners([VectorSum.Combiner])).State;

    /// <summary>Node 2: became a forwarder for node 9 at T0 and was accepted by node 1 (the root, path [1]).</summary>
    private static ForestState Relay(ForestSettings? settings = null) =>
        Node(2, settings).OnForward(Routed(Sub(9), Topic.Key), T0).Step.State
            .Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0).State;

    /// <summary>A tick at <paramref name="at"/> right after the parent's heartbeat (so the parent is not silent).</summary>
    private static ForestStep TickAt(ForestState state, TimeSpan at) =>
        state.Handle(new TreeHeartbeat(Topic, H(1), [H(1).Id]), at).State.Handle(ForestTick.Instance, at);

    /// <summary>Node 1: root of <see cref="Topic"/> with children 2 and 3.</summary>
    private static ForestState Root()
    {
        var root = Node(1).OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        root = root.OnDeliver(Routed(Sub(2), Topic.Key), T0).State;
        return root.OnDeliver(Routed(Sub(3), Topic.Key), T0).State;
    }

    [Test]
    public void A_relay_with_one_child_asks_its_parent_to_take_the_child_once_the_child_has_been_alone_long_enough()
    {
        var relay = Relay();
        Assert.That(TickAt(relay, T0 + After - TimeSpan.FromSeconds(1)).Effects.OfType<SendToPeer>().Where(s => s.Message is Bypass), Is.Empty, "too early");

        var step = TickAt(relay, T0 + After);

        var ask = step.Effects.OfType<SendToPeer>().Single(s => s.Message is Bypass);
        Assert.That(ask.To, Is.EqualTo(H(1).Address));
        Assert.That(ask.Message, Is.EqualTo(new Bypass(Topic, H(2), new ChildInfo(H(9), 0, 1))));
        Assert.That(TickAt(step.State, T0 + After + TimeSpan.FromSeconds(1)).Effects.OfType<SendToPeer>().Where(s => s.Message is Bypass), Is.Empty,
            "asked once per delay");
    }

    [Test]
    public void Subscribers_roots_relays_of_two_open_rounds_or_two_children_and_a_zero_setting_never_ask()
    {
        var late = T0 + After + TimeSpan.FromSeconds(1);
        static bool Asks(ForestStep step) => step.Effects.OfType<SendToPeer>().Any(s => s.Message is Bypass);

        var subscribed = Node(2).Subscribe(Topic, 0, T0).State.Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0).State
            .OnForward(Routed(Sub(9), Topic.Key), T0).Step.State;
        Assert.That(Asks(TickAt(subscribed, late)), Is.False, "a subscriber relays for its child and trains itself");

        var twoChildren = Relay().OnForward(Routed(Sub(8), Topic.Key), T0).Step.State;
        Assert.That(Asks(TickAt(twoChildren, late)), Is.False);

        var open = Relay().Handle(new Multicast(Topic, 1, new MulticastContent("model", null), new FoldRequest(1, VectorSum.Combiner.Kind, TimeSpan.FromSeconds(30))), T0).State;
        Assert.That(Asks(TickAt(open, late)), Is.False, "the open round's partial would be stranded");

        var off = Relay(ForestSettings.Default with { RelayBypassAfter = TimeSpan.Zero });
        Assert.That(Asks(TickAt(off, late)), Is.False);
        Assert.That(Asks(TickAt(Relay(), late)), Is.True, "control: the same relay with the default asks");
    }

    [Test]
    public void The_parent_swaps_the_relay_for_its_child_and_accepts_the_child_but_ignores_a_stale_request()
    {
        var step = Root().Handle(new Bypass(Topic, H(2), new ChildInfo(H(9), 0, 4)), T0);

        Assert.That(step.State.Trees[Topic].Children.Select(c => c.Handle), Is.EqualTo(new[] { H(9), H(3) }), "the child takes the relay's place: no new load");
        Assert.That(step.State.Trees[Topic].Children[0].SubtreeSize, Is.EqualTo(4));
        var accept = step.Effects.OfType<SendToPeer>().Single();
        Assert.That(accept.To, Is.EqualTo(H(9).Address));
        Assert.That(accept.Message, Is.EqualTo(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id])).Using<SubscribeAccepted>((a, b) =>
            a.Parent == b.Parent && a.Path.SequenceEqual(b.Path) ? 0 : 1));

        Assert.That(Root().Handle(new Bypass(Topic, H(7), new ChildInfo(H(9), 0, 1)), T0).Effects, Is.Empty, "node 7 is no child here");
        Assert.That(Root().Handle(new Bypass(Topic, H(2), new ChildInfo(H(3), 0, 1)), T0).Effects, Is.Empty, "node 3 is a child already");
        Assert.That(Root().Handle(new Bypass(Topic, H(2), new ChildInfo(H(1), 0, 1)), T0).Effects, Is.Empty, "never adopt itself");
    }

    [Test]
    public void The_child_moves_up_to_an_ancestor_and_leaves_the_relay_which_then_leaves_the_tree()
    {
        // Node 9, below relay 2, below root 1.
        var child = Node(9).Subscribe(Topic, 0, T0).State.Handle(new SubscribeAccepted(Topic, H(2), 0, [H(1).Id, H(2).Id]), T0).State;

        var moved = child.Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0 + After);

        Assert.That(moved.State.Trees[Topic].Parent, Is.EqualTo(H(1)));
        Assert.That(moved.State.Trees[Topic].Path, Is.EqualTo(new[] { H(1).Id }));
        Assert.That(moved.Effects.OfType<SendToPeer>().Single(), Is.EqualTo(new SendToPeer(H(2).Address, new Unsubscribe(Topic, H(9)))));

        var relayLeaves = Relay().Handle(new Unsubscribe(Topic, H(9)), T0 + After);
        Assert.That(relayLeaves.State.Trees, Is.Empty);
        Assert.That(relayLeaves.Effects.OfType<SendToPeer>().Single(), Is.EqualTo(new SendToPeer(H(1).Address, new Unsubscribe(Topic, H(2)))));

        // An acceptance from a node that is not an ancestor is still refused.
        var stranger = child.Handle(new SubscribeAccepted(Topic, H(5), 0, [H(1).Id, H(5).Id]), T0 + After);
        Assert.That(stranger.State.Trees[Topic].Parent, Is.EqualTo(H(2)));
        Assert.That(stranger.Effects.OfType<SendToPeer>().Single(), Is.EqualTo(new SendToPeer(H(5).Address, new Unsubscribe(Topic, H(9)))));
    }

    /// <summary>
    /// 300 nodes, two zones, three topics of 40 subscribers: after settling no unsubscribed forwarder relays for a single
    /// child, the workers sit shallower than without bypass, and every tree still folds each subscriber exactly once.
    /// </summary>
    [Test]
    [Category("Simulation")]
    public void After_settling_no_single_child_relay_is_left_workers_sit_shallower_and_every_tree_folds_exactly_once()
    {
        var (bypassed, topics) = Grow(ForestSettings.Default with { FanOutCap = 8 });
        var (kept, _) = Grow(ForestSettings.Default with { FanOutCap = 8, RelayBypassAfter = TimeSpan.Zero });

        double MeanDepth(ForestWorld world) => topics.Average(t => t.Value.Average(n => world.WalkToRootPath(t.Key, n).Count));
        int Relays(ForestWorld world) => topics.Keys.Sum(t => world.LiveNodes.Count(n => world.Forest(n).Trees.GetValueOrDefault(t) is { IsSubscriber: false, IsScopeRoot: false, Children.Length: 1 }));
        TestContext.Out.WriteLine($"single-child relays {Relays(kept)} → {Relays(bypassed)}; mean subscriber depth {MeanDepth(kept):F2} → {MeanDepth(bypassed):F2}");
        Assert.That(Relays(kept), Is.GreaterThan(0), "the scenario has relays to bypass");
        Assert.That(Relays(bypassed), Is.Zero);
        Assert.That(MeanDepth(bypassed), Is.LessThan(MeanDepth(kept)));

        bypassed.Contribution = (node, topic, round) => VectorSum.For(bypassed.Ids[node], topic, round);
        foreach (var (topic, members) in topics)
        {
            Assert.That(bypassed.WalkToRoot(topic).Keys, Is.SupersetOf(members), $"{topic}: every subscriber attached, no loop");
            var result = ForestScenarioTests.RunRound(bypassed, topic, 1);
            ForestScenarioTests.AssertFlatSum(bypassed, result, topic, members);
        }

        Assert.That(bypassed.Strays, Is.Empty);
        Assert.That(bypassed.Abandoned, Is.Empty);
    }

    private static (ForestWorld World, Dictionary<TopicId, List<int>> Subscribers) Grow(ForestSettings settings)
    {
        const int nodes = 300;
        var world = ForestScenarioTests.Build(nodes, zones: 2, settings: settings, seed: 13);
        var subscribers = Enumerable.Range(0, 3).ToDictionary(i => TopicId.For("bypass-app" + i), i => Enumerable.Range(0, nodes).Where(n => n % 7 == i).Take(40).ToList());
        foreach (var (topic, members) in subscribers)
        {
            foreach (var node in members)
            {
                world.Subscribe(node, topic, world.HomeZoneOf(topic));
                world.RunFor(TimeSpan.FromMilliseconds(20));
            }
        }

        world.RunFor(TimeSpan.FromSeconds(20));
        return (world, subscribers);
    }
}
