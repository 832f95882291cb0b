using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>
/// This node was the root (or a zone head) of <paramref name="Topic"/> and learned of <paramref name="Successor"/>, a
/// live node closer to the key: it stopped being root and re-subscribed, so its whole subtree now hangs below the
/// successor (the FL layer hands its state over).
/// </summary>
internal sealed record RootHandedOver(TopicId Topic, int Zone, NodeHandle Successor) : ForestReport;

internal sealed partial record ForestState
{
    /// <summary>
    /// The ring's leaf set of this node's zone ring is now <paramref name="leaves"/>. A root (or zone head) that sees a
    /// leaf closer to its key than itself is no longer the node the key belongs to: a closer node joined. Without this
    /// the newcomer would become a second root the first time a subscribe is delivered to it. The old root steps down
    /// and re-subscribes with its subtree, and a created topic's creation is routed to the successor too, so the tree
    /// has exactly one root again. The closest node to a key always has a closer newcomer in its leaf set (the
    /// newcomer, or another newcomer between them, is its ring neighbour on the key's side), so no change is missed.
    /// </summary>
    public ForestStep OnLeafSetChanged(ImmutableArray<NodeHandle> leaves, TimeSpan now)
    {
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        var state = this;
        foreach (var tree in Trees.Values.Where(tree => tree.IsScopeRoot))
        {
            var key = tree.Topic.KeyIn(Zone, tree.HomeZone);
            NodeHandle? successor = null;
            foreach (var leaf in leaves.Where(leaf => leaf.Id.IsCloserTo(key, Self.Id)))
            {
                successor = successor is { } best && best.Id.IsCloserTo(key, leaf.Id) ? best : leaf;
            }

            if (successor is { } closer)
            {
                state = state.StepDown(tree, closer, now, effects);
            }
        }

        return new(state, effects.ToImmutable());
    }

    private ForestState StepDown(TreeTopology tree, NodeHandle successor, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        effects.Add(new RootHandedOver(tree.Topic, Zone, successor));
        if (tree.IsZoneHead && tree.Parent is { } homeParent)
        {
            effects.Add(new SendToPeer(homeParent.Address, new Unsubscribe(tree.Topic, Self)));
        }

        if (tree.IsHomeRoot && tree.IsCreated)
        {
            effects.Add(new RouteToKey(tree.Topic.Key, RingId.Zone(tree.HomeZone), new CreateTopicRequest(tree.Topic, tree.HomeZone)));
        }

        var demoted = tree with { IsScopeRoot = false, IsCreated = false, Parent = null, SubscribeSentAt = null };
        if (demoted.IsSubscriber || !demoted.Children.IsEmpty)
        {
            demoted = SendSubscribe(demoted, now, effects);
        }

        return Store(demoted, effects);
    }
}
