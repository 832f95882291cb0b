using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>The forest's handlers on single states, without a ring: each rule of the protocol in isolation.</summary>
public class ForestStateTests
{
    private static readonly TopicId Topic = TopicId.For("unit");
    private static readonly TopicId Other = TopicId.For("other");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    private static NodeHandle H(int i) => new(NodeId.FromName("node" + i), new NodeAddress(i));

    private static ForestState Node(int i, ForestSettings? settings = null) =>
        ForestState.Create(H(i), 0, settings ?? ForestSettings.Default, new FoldCombiners([VectorSum.Combiner])).State;

    private static SubscribeRequest Sub(int i, TopicId? topic = null) => new(topic ?? Topic, 0, 0, H(i), 0, 1);

    private static RouteContext Routed(ForestMessage payload, NodeId key) => new(key, payload, null, 1, []);

    private static ForestState Root(int i, ForestSettings? settings = null, params int[] children)
    {
        var state = Node(i, settings).OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        foreach (var child in children)
        {
            state = state.OnDeliver(Routed(Sub(child), Topic.Key), T0).State;
        }

        return state;
    }

    /// <summary>A subscriber of <see cref="Topic"/> accepted by the last of <paramref name="ancestors"/>.</summary>
    private static ForestState Attached(int i, params int[] ancestors)
    {
        var state = Node(i).Subscribe(Topic, 0, T0).State;
        return state.Handle(new SubscribeAccepted(Topic, H(ancestors[^1]), 0, [.. ancestors.Select(a => H(a).Id)]), T0).State;
    }

    private static Multicast Publish(long id, long? round = null) =>
        new(Topic, id, new MulticastContent("model", new BlobRef("blob" + id, 1 << 20)), round is { } r ? new FoldRequest(r, VectorSum.Combiner.Kind, Budget) : null);

    private static FoldPartial Partial(int child, long round, params int[] contributors) =>
        new(Topic, round, VectorSum.Combiner.Kind, H(child), VectorSum.For(H(child).Id, Topic, round),
            [.. contributors.Select(c => H(c).Id).Order()], contributors.Length);

    [Test]
    public void Topic_key_is_the_ring_key_of_the_application_name_and_zone_keys_differ_per_zone()
    {
        Assert.That(TopicId.For("mnist").Key, Is.EqualTo(NodeId.FromName("app:mnist")));
        var topic = TopicId.For("mnist");
        Assert.That(topic.KeyIn(2, homeZone: 2), Is.EqualTo(topic.Key));
        Assert.That(new[] { topic.KeyIn(0, 2), topic.KeyIn(1, 2), topic.Key }.Distinct().Count(), Is.EqualTo(3));
    }

    [Test]
    public void A_node_outside_the_tree_adopts_the_subscriber_and_subscribes_onward_as_a_forwarder()
    {
        var (step, verdict) = Node(1).OnForward(Routed(Sub(9), Topic.Key), T0);

        Assert.That(verdict, Is.TypeOf<ForwardVerdict.ReplaceVerdict>());
        var onward = (SubscribeRequest)((ForwardVerdict.ReplaceVerdict)verdict).Payload;
        Assert.That(onward.Subscriber, Is.EqualTo(H(1)));
        Assert.That(onward.SubtreeSize, Is.EqualTo(2));
        var accept = step.Effects.OfType<SendToPeer>().Single();
        Assert.That(accept.To, Is.EqualTo(H(9).Address));
        Assert.That(((SubscribeAccepted)accept.Message).Path, Is.EqualTo(new[] { H(1).Id }));
        Assert.That(step.State.Describe(Topic)!.Role, Is.EqualTo(TreeRole.Forwarder));
        Assert.That(step.State.Describe(Topic)!.FanOut, Is.EqualTo(1));
    }

    [Test]
    public void A_tree_member_adopts_and_absorbs_but_never_adopts_an_ancestor()
    {
        var member = Attached(3, 1, 2);

        var (fromAncestor, ancestorVerdict) = member.OnForward(Routed(Sub(1), Topic.Key), T0);
        Assert.That(ancestorVerdict, Is.EqualTo(ForwardVerdict.Continue));
        Assert.That(fromAncestor.Effects, Is.Empty);
        Assert.That(member.Handle(new PushDown(Topic, Sub(2)), T0).Effects, Is.Empty, "a pushed-down ancestor is refused too");

        var (adopted, verdict) = member.OnForward(Routed(Sub(8), Topic.Key), T0);
        Assert.That(verdict, Is.EqualTo(ForwardVerdict.Absorb));
        Assert.That(adopted.State.Describe(Topic)!.FanOut, Is.EqualTo(1));
        var accept = adopted.Effects.OfType<SendToPeer>().Single().Message as SubscribeAccepted;
        Assert.That(accept!.Path, Is.EqualTo(new[] { H(1).Id, H(2).Id, H(3).Id }), "the child learns its ancestors");
    }

    [Test]
    public void A_full_node_pushes_the_newcomer_down_to_the_child_sharing_the_longest_prefix()
    {
        var settings = ForestSettings.Default with { FanOutCap = 3 };
        var root = Root(0, settings, 1, 2, 3);
        var newcomer = Enumerable.Range(10, 50).First(i => new[] { 1, 2, 3 }.Select(c => Bits(H(c).Id, H(i).Id)).Distinct().Count() == 3);
        var expected = new[] { 1, 2, 3 }.MaxBy(c => Bits(H(c).Id, H(newcomer).Id));

        var step = root.OnDeliver(Routed(Sub(newcomer), Topic.Key), T0);

        Assert.That(step.State.Describe(Topic)!.FanOut, Is.EqualTo(3), "the root stays at the cap");
        Assert.That(step.Effects, Is.EqualTo(new ForestEffect[] { new SendToPeer(H(expected).Address, new PushDown(Topic, Sub(newcomer))) }));
        var child = Attached(expected, 0).Handle(new PushDown(Topic, Sub(newcomer)), T0);
        var accept = child.Effects.OfType<SendToPeer>().Single();
        Assert.That(accept.To, Is.EqualTo(H(newcomer).Address));
        Assert.That(((SubscribeAccepted)accept.Message).Path, Is.EqualTo(new[] { H(0).Id, H(expected).Id }));
    }

    [Test]
    public void Multicast_goes_to_each_child_and_the_local_app_once_per_message_id_with_bounded_memory()
    {
        var settings = ForestSettings.Default with { RecentMessageIds = 2 };
        var node = Node(3, settings).Subscribe(Topic, 0, T0).State.Handle(new SubscribeAccepted(Topic, H(1), 0, [H(1).Id]), T0).State;
        node = node.OnForward(Routed(Sub(5), Topic.Key), T0).Step.State.OnForward(Routed(Sub(6), Topic.Key), T0).Step.State;

        var first = node.Handle(Publish(1), T0);
        Assert.That(first.Effects.OfType<SendToPeer>().Select(s => s.To), Is.EquivalentTo(new[] { H(5).Address, H(6).Address }));
        Assert.That(first.Effects.OfType<DeliverToApp>().Single().Content.Blob, Is.EqualTo(new BlobRef("blob1", 1 << 20)));
        var again = first.State.Handle(Publish(1), T0);
        Assert.That(again.Effects, Is.Empty, "a duplicate is neither forwarded nor delivered");
        Assert.That(again.State.Describe(Topic)!.DuplicateMessages, Is.EqualTo(1));

        var state = again.State.Handle(Publish(2), T0).State.Handle(Publish(3), T0).State;
        Assert.That(state.Handle(Publish(1), T0).Effects.OfType<DeliverToApp>(), Has.Exactly(1).Items, "only the last 2 ids are remembered");
    }

    [Test]
    public void Fold_completes_when_every_expected_part_arrived_and_late_or_duplicate_partials_are_dropped_and_counted()
    {
        var root = Root(0, null, 2, 3).Publish(Topic, 1, new MulticastContent("m", null), new FoldRequest(1, VectorSum.Combiner.Kind, Budget), T0).State;

        var afterTwo = root.Handle(Partial(2, 1, 2, 20), T0);
        Assert.That(afterTwo.Effects, Is.Empty);
        var duplicate = afterTwo.State.Handle(Partial(2, 1, 2, 20), T0);
        Assert.That(duplicate.Effects.OfType<PartialDropped>().Single().Reason, Is.EqualTo("duplicate"));
        Assert.That(duplicate.State.Describe(Topic)!.DuplicatePartials, Is.EqualTo(1));
        var overlapping = duplicate.State.Handle(Partial(3, 1, 3, 20), T0);
        Assert.That(overlapping.Effects.OfType<PartialDropped>().Single().Reason, Is.EqualTo("duplicate"), "a contributor is never counted twice");

        var done = overlapping.State.Handle(Partial(3, 1, 3, 30), T0);
        var completed = done.Effects.OfType<FoldCompleted>().Single();
        Assert.That(completed.ByDeadline, Is.False);
        Assert.That(completed.Contributors, Is.EqualTo(new[] { 2, 20, 3, 30 }.Select(c => H(c).Id).Order()));
        Assert.That((double[])completed.Value, Is.EqualTo(VectorSum.Flat([VectorSum.For(H(2).Id, Topic, 1), VectorSum.For(H(3).Id, Topic, 1)])).Within(1e-12));
        Assert.That(done.Effects, Does.Contain(new StopTimer(new FoldDeadline(Topic, 1))));

        var late = done.State.Handle(Partial(2, 1, 2), T0);
        Assert.That(late.Effects.OfType<PartialDropped>().Single().Reason, Is.EqualTo("late"));
        Assert.That(late.State.Describe(Topic)!.LatePartials, Is.EqualTo(1));
    }

    [Test]
    public void At_its_deadline_a_round_closes_with_what_arrived_and_the_missing_child_is_not_waited_for()
    {
        var root = Root(0, null, 2, 3).Subscribe(Topic, 0, T0).State;
        root = root.Publish(Topic, 1, new MulticastContent("m", null), new FoldRequest(1, VectorSum.Combiner.Kind, Budget), T0).State;
        root = root.Contribute(Topic, 1, VectorSum.For(H(0).Id, Topic, 1)).State.Handle(Partial(2, 1, 2), T0).State;

        var deadline = root.Handle(new FoldDeadline(Topic, 1), T0 + Budget);
        var completed = deadline.Effects.OfType<FoldCompleted>().Single();
        Assert.That(completed.ByDeadline, Is.True);
        Assert.That(completed.Contributors, Is.EqualTo(new[] { H(0).Id, H(2).Id }.Order()));
        Assert.That(deadline.State.Handle(Partial(3, 1, 3), T0 + Budget).Effects.OfType<PartialDropped>().Single().Reason, Is.EqualTo("late"));
    }

    [Test]
    public void A_childs_deadline_is_the_budget_less_one_level_slack_per_level_of_depth()
    {
        Assert.That(Deadline(Root(0).Subscribe(Topic, 0, T0).State), Is.EqualTo(Budget));
        Assert.That(Deadline(Attached(3, 1)), Is.EqualTo(Budget - ForestSettings.Default.LevelSlack));
        Assert.That(Deadline(Attached(3, 1, 2)), Is.EqualTo(Budget - (2 * ForestSettings.Default.LevelSlack)));

        static TimeSpan Deadline(ForestState state) =>
            state.Handle(Publish(1, 1), T0).Effects.OfType<StartTimer>().Single(t => t.Timer is FoldDeadline).Delay;
    }

    [Test]
    public void A_leaf_sends_one_partial_to_its_parent_with_its_own_contribution()
    {
        var leaf = Attached(3, 1, 2).Handle(Publish(1, 1), T0).State;
        var value = VectorSum.For(H(3).Id, Topic, 1);

        var step = leaf.Contribute(Topic, 1, value);

        var sent = step.Effects.OfType<SendToPeer>().Single();
        Assert.That(sent.To, Is.EqualTo(H(2).Address));
        var partial = (FoldPartial)sent.Message;
        Assert.That(partial.Contributors, Is.EqualTo(new[] { H(3).Id }));
        Assert.That((double[])partial.Value, Is.EqualTo(value));
        Assert.That(step.State.Contribute(Topic, 1, value).Effects.OfType<PartialDropped>(), Has.Exactly(1).Items, "a second contribution is refused");
    }

    [Test]
    public void Trees_of_different_topics_never_mix()
    {
        // No child budget: a root reserves its fan-out cap against the budget and would forward for no other tree.
        var root = Root(0, ForestSettings.Default with { NodeChildBudget = 0 }, 2);
        var (step, verdict) = root.OnForward(Routed(Sub(7, Other), Other.Key), T0);
        Assert.That(verdict, Is.TypeOf<ForwardVerdict.ReplaceVerdict>(), "not yet in the other tree: become its forwarder");
        var state = step.State;
        Assert.That(state.Trees.Keys, Is.EquivalentTo(new[] { Topic, Other }));
        Assert.That(state.Trees[Topic].Children.Select(c => c.Handle), Is.EqualTo(new[] { H(2) }));
        Assert.That(state.Trees[Other].Children.Select(c => c.Handle), Is.EqualTo(new[] { H(7) }));
        var multicast = state.Handle(new Multicast(Other, 1, new MulticastContent("m", null), null), T0);
        Assert.That(multicast.Effects.OfType<SendToPeer>().Select(s => s.To), Is.EqualTo(new[] { H(7).Address }));
    }

    [Test]
    public void A_forwarder_with_no_children_and_no_subscription_leaves_its_parent()
    {
        var forwarder = Node(1).OnForward(Routed(Sub(9), Topic.Key), T0).Step.State
            .Handle(new SubscribeAccepted(Topic, H(4), 0, [H(4).Id]), T0).State;
        Assert.That(forwarder.Describe(Topic)!.IsAttached, Is.True);

        var step = forwarder.Handle(new Unsubscribe(Topic, H(9)), T0);

        Assert.That(step.State.Trees, Is.Empty);
        Assert.That(step.Effects, Is.EqualTo(new ForestEffect[] { new SendToPeer(H(4).Address, new Unsubscribe(Topic, H(1))) }));
    }

    [Test]
    public void A_dead_parent_makes_the_child_resubscribe_and_a_dead_child_is_no_longer_awaited()
    {
        var node = Attached(3, 1, 2).OnForward(Routed(Sub(5), Topic.Key), T0).Step.State;
        node = node.Handle(Publish(1, 1), T0).State.Contribute(Topic, 1, VectorSum.For(H(3).Id, Topic, 1)).State;

        var childDead = node.OnPeerFailed(H(5).Address, T0);
        Assert.That(childDead.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<FoldPartial>(), "the round no longer waits for the dead child");

        var parentDead = childDead.State.OnPeerFailed(H(2).Address, T0);
        var route = parentDead.Effects.OfType<RouteToKey>().Single();
        Assert.That(route.Key, Is.EqualTo(Topic.Key));
        Assert.That(((SubscribeRequest)route.Payload).Subscriber, Is.EqualTo(H(3)));
        Assert.That(parentDead.State.Trees[Topic].Path, Is.EqualTo(new[] { H(1).Id, H(2).Id }), "the old ancestors stay refused while re-subscribing");
    }

    [Test]
    public void A_silent_parent_times_out_on_the_tick()
    {
        var node = Attached(3, 1, 2);
        Assert.That(node.Handle(ForestTick.Instance, T0 + ForestSettings.Default.TickInterval).Effects.OfType<RouteToKey>(), Is.Empty);

        var step = node.Handle(ForestTick.Instance, T0 + ForestSettings.Default.ParentTimeout + TimeSpan.FromSeconds(1));

        Assert.That(step.Effects.OfType<SendToPeer>().Single(), Is.EqualTo(new SendToPeer(H(2).Address, new Unsubscribe(Topic, H(3)))));
        Assert.That(step.Effects.OfType<RouteToKey>(), Has.Exactly(1).Items);
        Assert.That(step.State.Describe(Topic)!.IsAttached, Is.False);
    }

    [Test]
    public void A_heartbeat_whose_path_holds_this_node_breaks_the_loop()
    {
        var node = Attached(3, 1, 2);
        var step = node.Handle(new TreeHeartbeat(Topic, H(2), [H(3).Id, H(2).Id]), T0);
        Assert.That(step.Effects.OfType<SendToPeer>().Single().Message, Is.EqualTo(new Unsubscribe(Topic, H(3))));
        Assert.That(step.Effects.OfType<RouteToKey>(), Has.Exactly(1).Items);
    }

    [Test]
    public void A_subscribe_delivered_to_a_member_makes_it_root_and_it_leaves_its_old_parent()
    {
        var member = Attached(3, 1, 2);

        var step = member.OnDeliver(Routed(Sub(7), Topic.Key), T0);

        Assert.That(step.Effects, Does.Contain(new BecameRoot(Topic, 0, IsZoneHead: false)));
        Assert.That(step.Effects, Does.Contain(new SendToPeer(H(2).Address, new Unsubscribe(Topic, H(3)))));
        Assert.That(step.State.Describe(Topic)!.Role, Is.EqualTo(TreeRole.Root));
        Assert.That(step.State.Describe(Topic)!.Depth, Is.EqualTo(0));
        var accept = (SubscribeAccepted)step.Effects.OfType<SendToPeer>().Single(s => s.To == H(7).Address).Message;
        Assert.That(accept.Path, Is.EqualTo(new[] { H(3).Id }));
    }

    [Test]
    public void A_zone_head_joins_the_home_tree_across_zones_and_home_nodes_only_graft_it_when_attached()
    {
        var head = ForestState.Create(H(5), 2, ForestSettings.Default, new FoldCombiners([VectorSum.Combiner])).State;
        var zoneRequest = new SubscribeRequest(Topic, 0, 2, H(6), 2, 1);

        var step = head.OnDeliver(Routed(zoneRequest, zoneRequest.Key), T0);

        Assert.That(step.Effects, Does.Contain(new BecameRoot(Topic, 2, IsZoneHead: true)));
        var route = step.Effects.OfType<RouteToKey>().Single();
        Assert.That((route.Key, route.Ring), Is.EqualTo((Topic.Key, RingId.Zone(0))));
        var crossing = (SubscribeRequest)route.Payload;
        Assert.That(Node(9).OnForward(Routed(crossing, Topic.Key), T0).Verdict, Is.EqualTo(ForwardVerdict.Continue), "no new forwarder for a foreign zone's head");
        Assert.That(Attached(9, 1).OnForward(Routed(crossing, Topic.Key), T0).Verdict, Is.EqualTo(ForwardVerdict.Absorb));
    }

    [Test]
    public void Destroying_a_topic_at_the_root_removes_it_down_the_tree()
    {
        Assert.That(Attached(3, 1).DestroyTopic(Topic).Effects, Is.Empty, "only the root destroys");
        var root = Root(0, null, 2, 3);

        var step = root.DestroyTopic(Topic);

        Assert.That(step.State.Trees, Is.Empty);
        Assert.That(step.Effects, Is.EquivalentTo(new ForestEffect[] { new SendToPeer(H(2).Address, new DestroyTopic(Topic)), new SendToPeer(H(3).Address, new DestroyTopic(Topic)) }));
        var child = Attached(2, 0).OnForward(Routed(Sub(8), Topic.Key), T0).Step.State.Handle(new DestroyTopic(Topic), T0);
        Assert.That(child.State.Trees, Is.Empty);
        Assert.That(child.Effects, Is.EqualTo(new ForestEffect[] { new SendToPeer(H(8).Address, new DestroyTopic(Topic)) }));
    }

    [Test]
    public void The_relay_combiner_keeps_every_item_in_an_order_independent_of_arrival()
    {
        IFoldCombiner relay = new RelayCombiner<int>("relay", Comparer<int>.Default);
        ImmutableArray<int> a = [5, 1], b = [3], c = [4, 2];
        var left = Combine(Combine(Combine(relay.Identity, a), b), c);
        var right = Combine(Combine(c, b), a);
        Assert.That((ImmutableArray<int>)left, Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        Assert.That((ImmutableArray<int>)right, Is.EqualTo((ImmutableArray<int>)left));
        Assert.That(relay.TryCombine("not a list", a, out _), Is.False);

        object Combine(object x, object y)
        {
            Assert.That(relay.TryCombine(x, y, out var combined), Is.True);
            return combined!;
        }
    }

    private static int Bits(NodeId a, NodeId b) => (int)UInt128.LeadingZeroCount(a.Value ^ b.Value);
}
