using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary><see cref="ForestState.OnLeafSetChanged"/>: a root steps down when its leaf set shows a node closer to the key.</summary>
public class ForestHandoverTests
{
    private static readonly TopicId Topic = TopicId.For("handover");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);

    private static readonly NodeHandle RootHandle = new(new NodeId(Topic.Key.Value + 1000), new NodeAddress(1));
    private static readonly NodeHandle Closer = new(new NodeId(Topic.Key.Value + 10), new NodeAddress(2));
    private static readonly NodeHandle Farther = new(new NodeId(Topic.Key.Value - 5000), new NodeAddress(3));
    private static readonly NodeHandle Child = new(NodeId.FromName("child"), new NodeAddress(4));

    private static ForestState Root()
    {
        var state = ForestState.Create(RootHandle, 0, ForestSettings.Default, new FoldCombiners([VectorSum.Combiner])).State;
        state = state.OnDeliver(new RouteContext(Topic.Key, new CreateTopicRequest(Topic, 0), null, 1, []), T0).State;
        return state.OnDeliver(new RouteContext(Topic.Key, new SubscribeRequest(Topic, 0, 0, Child, 0, 1), null, 1, []), T0).State;
    }

    [Test]
    public void A_root_that_sees_a_closer_leaf_steps_down_hands_the_creation_on_and_resubscribes_with_its_subtree()
    {
        var step = Root().OnLeafSetChanged([Farther, Closer], T0);

        var tree = step.State.Trees[Topic];
        Assert.That(tree.IsHomeRoot, Is.False);
        Assert.That(tree.Children.Select(c => c.Handle), Is.EqualTo(new[] { Child }), "the subtree stays");
        Assert.That(tree.SubscribeSentAt, Is.EqualTo(T0));
        Assert.That(step.Effects.OfType<RootHandedOver>().Single().Successor, Is.EqualTo(Closer));
        var routes = step.Effects.OfType<RouteToKey>().ToList();
        Assert.That(routes.Select(r => r.Payload.GetType()), Is.EquivalentTo(new[] { typeof(CreateTopicRequest), typeof(SubscribeRequest) }));
        Assert.That(routes.Select(r => r.Key), Is.All.EqualTo(Topic.Key));
        Assert.That(((SubscribeRequest)routes.Single(r => r.Payload is SubscribeRequest).Payload).SubtreeSize, Is.EqualTo(2));
    }

    [Test]
    public void Leaves_farther_from_the_key_change_nothing()
    {
        var root = Root();
        var step = root.OnLeafSetChanged([Farther, Child], T0);

        Assert.That(step.Effects, Is.Empty);
        Assert.That(step.State.Trees[Topic].IsHomeRoot, Is.True);
    }

    [Test]
    public void A_created_root_without_members_hands_over_the_creation_and_drops_the_tree()
    {
        var state = ForestState.Create(RootHandle, 0, ForestSettings.Default, new FoldCombiners([VectorSum.Combiner])).State;
        state = state.OnDeliver(new RouteContext(Topic.Key, new CreateTopicRequest(Topic, 0), null, 1, []), T0).State;

        var step = state.OnLeafSetChanged([Closer], T0);

        Assert.That(step.State.Trees.ContainsKey(Topic), Is.False);
        Assert.That(step.Effects.OfType<RouteToKey>().Select(r => r.Payload), Is.EqualTo(new object[] { new CreateTopicRequest(Topic, 0) }));
    }
}
