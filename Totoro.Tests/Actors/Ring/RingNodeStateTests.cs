using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>Handler-level tests: one state, messages in, effects out — no pump.</summary>
public class RingNodeStateTests
{
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(5);
    private static readonly NodeHandle Self = new(NodeId.Parse("80000000000000000000000000000000"), new NodeAddress(0));
    private static readonly NodeHandle Near = new(NodeId.Parse("80000000000000000000000000000100"), new NodeAddress(1));
    private static readonly NodeHandle Far = new(NodeId.Parse("30000000000000000000000000000000"), new NodeAddress(2));
    private static readonly NodeHandle Other = new(NodeId.Parse("7f000000000000000000000000000000"), new NodeAddress(3));

    private sealed class ScriptedApplication(ForwardVerdict verdict) : IRouteApplication
    {
        public List<(RouteContext Context, NodeHandle Next)> Forwards { get; } = [];

        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
        {
            Forwards.Add((context, nextHop));
            return verdict;
        }

        public void Deliver(RouteContext context) => throw new AssertionException("the shell, not the core, calls Deliver");
    }

    private static RingNodeState NodeKnowing(params NodeHandle[] peers) => NodeAs(Self, peers);

    private static RingNodeState NodeAs(NodeHandle self, params NodeHandle[] peers)
    {
        var state = RingNodeState.CreateFirst(self, RingSettings.Default, LowestRttPlanner.Instance).State;
        foreach (var peer in peers)
        {
            state = state.Handle(new Announce(peer, Now), Now, new ScriptedApplication(ForwardVerdict.Continue)).State;
        }

        return state;
    }

    [Test]
    public void First_node_is_ready_and_schedules_its_heartbeat()
    {
        var step = RingNodeState.CreateFirst(Self, RingSettings.Default, LowestRttPlanner.Instance);
        Assert.That(step.State.Phase, Is.EqualTo(RingPhase.Ready));
        Assert.That(step.Effects, Does.Contain(new ScheduleTimer(HeartbeatTick.Instance, RingSettings.Default.HeartbeatInterval)));
    }

    [Test]
    public void Announce_adds_the_sender_and_answers_with_echo_and_leaf_set()
    {
        var step = NodeKnowing().Handle(new Announce(Near, TimeSpan.FromSeconds(1)), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(step.State.Leaves.Contains(Near.Id), Is.True);
        var reply = step.Effects.OfType<Send>().Single();
        Assert.That(reply.To, Is.EqualTo(Near.Address));
        Assert.That(reply.Message, Is.TypeOf<AnnounceReply>().With.Property(nameof(AnnounceReply.EchoSentAt)).EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(((AnnounceReply)reply.Message).LeafSet, Does.Contain(Near));
    }

    [Test]
    public void Probe_reply_records_rtt()
    {
        var state = NodeKnowing(Far).Handle(new ProbeReply(Far, Now - TimeSpan.FromMilliseconds(40)), Now, new ScriptedApplication(ForwardVerdict.Continue)).State;
        Assert.That(state.Table.Find(Far.Id)!.Value.RttMicros, Is.EqualTo(40_000u));
        Assert.That(state.Neighbors.Contains(Far.Id), Is.True);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Intermediate_hop_asks_the_application_and_continues_or_replaces(bool replace)
    {
        var application = new ScriptedApplication(replace ? ForwardVerdict.Replace("altered") : ForwardVerdict.Continue);
        var key = NodeId.Parse("31000000000000000000000000000000");
        var step = NodeKnowing(Near, Far, Other).Handle(new RouteMessage(Other, key, "original", 2), Now, application);
        var forward = application.Forwards.Single();
        Assert.That(forward.Context.Hops, Is.EqualTo(2));
        Assert.That(forward.Context.Sender, Is.EqualTo(Other));
        Assert.That(forward.Next, Is.EqualTo(Far));
        var sent = (RouteMessage)step.Effects.OfType<Send>().Single().Message;
        // The key lies in the leaf set's range: a leaf-set hop, after which the route only gets numerically closer.
        Assert.That(sent, Is.EqualTo(new RouteMessage(Self, key, replace ? "altered" : "original", 3) { Converging = true }));
    }

    [Test]
    public void Absorbed_message_goes_no_further()
    {
        var step = NodeKnowing(Far).Handle(new RouteMessage(Other, Far.Id, "join-tree", 1), Now, new ScriptedApplication(ForwardVerdict.Absorb));
        Assert.That(step.Effects, Is.Empty);
    }

    [Test]
    public void Destination_emits_deliver_without_a_forward_upcall()
    {
        var application = new ScriptedApplication(ForwardVerdict.Continue);
        var key = new NodeId(Self.Id.Value + 1);
        var step = NodeKnowing(Far).Handle(new RouteMessage(Far, key, "payload", 1), Now, application);
        Assert.That(application.Forwards, Is.Empty);
        Assert.That(step.Effects.OfType<Deliver>().Single().Context, Is.EqualTo(new RouteContext(key, "payload", Far, 1, [])));
    }

    [Test]
    public void Hop_limit_stops_a_route_instead_of_forwarding_it()
    {
        var key = NodeId.Parse("31000000000000000000000000000000");
        var step = NodeKnowing(Far).Handle(new RouteMessage(Other, key, "payload", RingSettings.Default.MaxHops), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(step.Effects.OfType<Send>(), Is.Empty);
        Assert.That(step.Effects.OfType<RouteAbandoned>().Single().Reason, Is.EqualTo("hop limit reached"));
    }

    [Test]
    public void Joining_node_abandons_routes_and_refuses_local_routing()
    {
        var joining = RingNodeState.CreateJoining(Self, Far.Address, RingSettings.Default, LowestRttPlanner.Instance).State;
        var forwarded = joining.Handle(new RouteMessage(Other, Far.Id, "payload", 1), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(forwarded.Effects.Single(), Is.TypeOf<RouteAbandoned>());
        Assert.That(joining.Route(Far.Id, "payload").Effects.Single(), Is.TypeOf<RouteAbandoned>());
    }

    [Test]
    public void Join_at_the_closest_node_hands_over_rows_leaf_set_and_path_length()
    {
        var joiner = new NodeHandle(NodeId.Parse("80000000000000000000000000000002"), new NodeAddress(9));
        var step = NodeKnowing(Near, Far).Handle(new RouteMessage(joiner, joiner.Id, new JoinPayload(joiner, 0), 1), Now, new ScriptedApplication(ForwardVerdict.Continue));
        var reply = (JoinReply)step.Effects.OfType<Send>().Single(s => s.To == joiner.Address).Message;
        Assert.That(reply.HopIndex, Is.EqualTo(0));
        Assert.That(reply.PathLength, Is.EqualTo(1));
        Assert.That(reply.Rows, Does.Contain(Self).And.Contain(Far).And.Contain(Near));
        Assert.That(reply.LeafSet, Does.Contain(Near));
    }

    [Test]
    public void Later_join_hops_hand_over_only_the_rows_after_the_previous_hops_prefix()
    {
        // Self shares 1 digit with the joiner; the previous hop (Far) shares none, so Self sends row 1 but not row 0.
        var joiner = new NodeHandle(NodeId.Parse("8f000000000000000000000000000000"), new NodeAddress(9));
        var rowOne = new NodeHandle(NodeId.Parse("85000000000000000000000000000000"), new NodeAddress(10));
        var state = NodeKnowing(Far, rowOne);
        var fromFar = state.Handle(new RouteMessage(Far, joiner.Id, new JoinPayload(joiner, 0), 2), Now, new ScriptedApplication(ForwardVerdict.Continue));
        var reply = (JoinReply)fromFar.Effects.OfType<Send>().Single(s => s.To == joiner.Address).Message;
        Assert.That(reply.Rows, Is.EquivalentTo(new[] { Self, rowOne }), "row 1 only (row 0 came from the hop before)");
        var asBootstrap = state.Handle(new RouteMessage(joiner, joiner.Id, new JoinPayload(joiner, 0), 1), Now, new ScriptedApplication(ForwardVerdict.Continue));
        var first = (JoinReply)asBootstrap.Effects.OfType<Send>().Single(s => s.To == joiner.Address).Message;
        Assert.That(first.Rows, Is.EquivalentTo(new[] { Self, Far, rowOne }), "the first hop sends rows 0..its prefix");
    }

    [Test]
    public void Joiner_becomes_ready_after_every_path_node_answered_and_announces_itself()
    {
        var joining = RingNodeState.CreateJoining(Self, Far.Address, RingSettings.Default, LowestRttPlanner.Instance);
        Assert.That(joining.Effects.OfType<Send>().Single().Message, Is.EqualTo(new RouteMessage(Self, Self.Id, new JoinPayload(Self, 0), 1)));
        var app = new ScriptedApplication(ForwardVerdict.Continue);
        var finalFirst = joining.State.Handle(new JoinReply(Near, 0, 1, [Near], [], [Near, Other], 2), Now, app);
        Assert.That(finalFirst.State.Phase, Is.EqualTo(RingPhase.Joining), "hop 0 has not answered yet");
        var done = finalFirst.State.Handle(new JoinReply(Far, 0, 0, [Far], [], [], null), Now, app);
        Assert.That(done.State.Phase, Is.EqualTo(RingPhase.Ready));
        Assert.That(done.Effects.OfType<Send>().Select(s => s.To), Is.EquivalentTo(new[] { Near.Address, Far.Address, Other.Address }));
        Assert.That(done.Effects, Does.Contain(new CancelTimer(JoinRetryTick.Instance)));
        Assert.That(done.Effects.OfType<JoinCompleted>(), Has.Exactly(1).Items);
    }

    [Test]
    public void Announce_from_a_node_outside_the_leaf_set_is_learned_without_a_reply()
    {
        // Fill both leaf-set sides with nodes closer than Far, so Far only fits the routing table.
        var close = Enumerable.Range(1, 16)
            .Select(i => new NodeHandle(new NodeId(Self.Id.Value + (UInt128)(i * 1000)), new NodeAddress(100 + i)))
            .Concat(Enumerable.Range(1, 16).Select(i => new NodeHandle(new NodeId(Self.Id.Value - (UInt128)(i * 1000)), new NodeAddress(200 + i))))
            .ToArray();
        var step = NodeKnowing(close).Handle(new Announce(Far, Now), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(step.State.Leaves.Contains(Far.Id), Is.False);
        Assert.That(step.State.Table.Contains(Far.Id), Is.True, "the announcer is learned");
        Assert.That(step.Effects.OfType<Send>(), Is.Empty, "only nodes that take the announcer into their leaf set answer");
    }

    [Test]
    public void Joined_node_announces_to_leaves_and_its_deepest_rows_only()
    {
        // Row 0 holds Other, Far and shallow; rows 8 and 9 hold deep and deeper (deeper is also the clockwise leaf).
        var shallow = new NodeHandle(NodeId.Parse("10000000000000000000000000000000"), new NodeAddress(5));
        var deep = new NodeHandle(NodeId.Parse("80000000100000000000000000000000"), new NodeAddress(6));
        var deeper = new NodeHandle(NodeId.Parse("80000000010000000000000000000000"), new NodeAddress(7));
        var settings = RingSettings.Default with { AnnounceRows = 2, LeafSetSize = 2 };
        var joining = RingNodeState.CreateJoining(Self, Far.Address, settings, LowestRttPlanner.Instance).State;
        var done = joining.Handle(new JoinReply(Other, 0, 0, [Other, Far, shallow, deep, deeper], [], [Other], 1), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(done.State.Phase, Is.EqualTo(RingPhase.Ready));
        Assert.That(done.State.Leaves.Members().Select(e => e.Id), Is.EquivalentTo(new[] { Other.Id, deeper.Id }));
        var announced = done.Effects.OfType<Send>().Where(s => s.Message is Announce).Select(s => s.To).ToArray();
        Assert.That(announced, Does.Contain(Other.Address).And.Contain(deeper.Address), "leaves");
        Assert.That(announced, Does.Contain(deep.Address), "the two deepest rows (8 and 9)");
        Assert.That(announced, Does.Not.Contain(Far.Address).And.Not.Contain(shallow.Address), "row 0 is not announced to");
    }

    [Test]
    public void Leaf_learned_from_an_announce_reply_is_announced_to()
    {
        // Near and a concurrent joiner were both missing from the leaf set this node got at join.
        var concurrent = new NodeHandle(NodeId.Parse("80000000000000000000000000000050"), new NodeAddress(8));
        var step = NodeKnowing(Near).Handle(new AnnounceReply(Near, Now - TimeSpan.FromMilliseconds(10), Now, [Near, concurrent]), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(step.State.Leaves.Contains(concurrent.Id), Is.True);
        var sends = step.Effects.OfType<Send>().ToArray();
        Assert.That(sends.Select(s => (s.To, s.Message.GetType())), Is.EqualTo(new[] { (concurrent.Address, typeof(Announce)) }));
    }

    [Test]
    public void Rtt_sample_within_an_eighth_is_jitter_and_rewrites_nothing()
    {
        var app = new ScriptedApplication(ForwardVerdict.Continue);
        var measured = NodeKnowing(Far).Handle(new ProbeReply(Far, Now - TimeSpan.FromMilliseconds(40)), Now, app).State;
        var jitter = measured.Handle(new ProbeReply(Far, Now - TimeSpan.FromMilliseconds(44)), Now, app).State;
        Assert.That(jitter.Table, Is.SameAs(measured.Table));
        Assert.That(jitter.Table.Find(Far.Id)!.Value.RttMicros, Is.EqualTo(40_000u));
        var moved = measured.Handle(new ProbeReply(Far, Now - TimeSpan.FromMilliseconds(60)), Now, app).State;
        Assert.That(moved.Table.Find(Far.Id)!.Value.RttMicros, Is.EqualTo(60_000u));
    }

    [Test]
    public void Stale_join_reply_from_an_earlier_attempt_is_ignored()
    {
        var joining = RingNodeState.CreateJoining(Self, Far.Address, RingSettings.Default, LowestRttPlanner.Instance).State;
        var retried = joining.Handle(JoinRetryTick.Instance, Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(retried.State.Join!.Attempt, Is.EqualTo(1));
        var stale = retried.State.Handle(new JoinReply(Near, 0, 0, [Near], [], [Near], 1), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(stale.State.Phase, Is.EqualTo(RingPhase.Joining));
    }

    [Test]
    public void Failed_hop_drops_the_peer_reroutes_and_asks_for_repairs()
    {
        var state = NodeKnowing(Near, Far, Other);
        var key = NodeId.Parse("31000000000000000000000000000000");
        var lost = new RouteMessage(Self, key, "payload", 3);
        var step = state.Handle(new DeliveryFailed(Far.Address, lost), Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(step.State.KnownPeers().Select(p => p.Id), Does.Not.Contain(Far.Id));
        Assert.That(step.Effects, Does.Contain(new PeerFailed(Far)));
        var reroute = step.Effects.OfType<Send>().Single(s => s.Message is RouteMessage);
        Assert.That(reroute.Message, Is.EqualTo(lost), "same message, same hop count, next best hop");
        Assert.That(reroute.To, Is.EqualTo(Other.Address));
        var relearned = step.State.Handle(new LeafSetReply(Other, [Far]), Now, new ScriptedApplication(ForwardVerdict.Continue)).State;
        Assert.That(relearned.KnownPeers().Select(p => p.Id), Does.Not.Contain(Far.Id), "a tombstoned node is not re-learned from stale hand-overs");
    }

    [Test]
    public void Silent_leaf_is_declared_dead_by_the_detector_and_repaired_from_the_other_leaves()
    {
        var state = NodeKnowing(Near, Other);
        var app = new ScriptedApplication(ForwardVerdict.Continue);
        var at = Now;
        ImmutableArray<RingEffect> effects = [];
        for (var tick = 0; tick < 10; tick++)
        {
            at += TimeSpan.FromSeconds(1);
            state = state.Handle(new ProbeReply(Other, at - TimeSpan.FromMilliseconds(10)), at, app).State;
            (state, effects) = state.Handle(HeartbeatTick.Instance, at, app);
        }

        Assert.That(state.Leaves.Contains(Near.Id), Is.False);
        Assert.That(state.Leaves.Contains(Other.Id), Is.True);
        Assert.That(state.Tombstones.Select(t => t.Id), Does.Contain(Near.Id));
        Assert.That(effects.OfType<Send>().Where(s => s.Message is Probe).Select(s => s.To), Is.EquivalentTo(new[] { Other.Address }));
        Assert.That(effects, Does.Contain(new ScheduleTimer(HeartbeatTick.Instance, RingSettings.Default.HeartbeatInterval)));
    }

    [Test]
    public void Leave_notifies_each_leaf_with_the_leaf_set_and_stops_the_heartbeat()
    {
        var step = NodeKnowing(Near, Other).Leave();
        Assert.That(step.State.Phase, Is.EqualTo(RingPhase.Left));
        var notices = step.Effects.OfType<Send>().ToList();
        Assert.That(notices.Select(n => n.To), Is.EquivalentTo(new[] { Near.Address, Other.Address }));
        Assert.That(notices.All(n => n.Message is LeaveNotice notice && notice.LeafSet.Length == 2), Is.True);
        Assert.That(step.Effects, Does.Contain(new CancelTimer(HeartbeatTick.Instance)));
        var notice = notices.Single(n => n.To == Near.Address).Message;
        var receiver = NodeAs(Near, Self).Handle(notice, Now, new ScriptedApplication(ForwardVerdict.Continue));
        Assert.That(receiver.Effects, Does.Contain(new PeerFailed(Self)));
        Assert.That(receiver.State.Leaves.Contains(Self.Id), Is.False);
        Assert.That(receiver.State.Leaves.Contains(Other.Id), Is.True, "the leaver's leaf set fills the gap");
    }
}
