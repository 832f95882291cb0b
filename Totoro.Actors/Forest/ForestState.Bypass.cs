using System.Collections.Immutable;

namespace Totoro.Actors.Forest;

/// <summary>
/// Relay bypass. A Scribe join makes every node on the route that is not yet in the tree a forwarder, so a worker's
/// first hop often ends up relaying for that worker alone: a tree level that adds, every round, one more
/// store-and-forward of the worker's update on the way up and one more chunk on the way down. A forwarder that is
/// not subscribed itself and has kept exactly one child for <see cref="ForestSettings.RelayBypassAfter"/> asks its
/// parent to take the child in its place (<see cref="Bypass"/>). The parent swaps the entries, so no node's child
/// count changes, and sends the child a <see cref="SubscribeAccepted"/>. The child accepts it because the sender is
/// one of its ancestors, and leaves the relay, which then has nothing left to do and leaves the tree.
/// </summary>
/// <remarks>
/// Loop-free: the new parent is an ancestor of the child, so the child is not on the new parent's path, and the
/// child's own subtree only moves up with it. Every failure leaves the tree as it was or falls to existing repair:
/// a parent that no longer holds the relay, or holds the child already, ignores the request; a lost acceptance
/// leaves the child below the relay (which asks again after the same delay); a child that refuses unsubscribes from
/// the new parent, and the relay, which the parent no longer heartbeats, re-subscribes after its parent timeout.
/// A relay with an open fold round waits: the swap would strand that round's partial.
/// </remarks>
internal sealed partial record ForestState
{
    private TreeTopology OfferBypass(TreeTopology tree, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        var eligible = Settings.RelayBypassAfter > TimeSpan.Zero && !tree.IsScopeRoot && !tree.IsSubscriber &&
                       tree.Parent is not null && tree.SubscribeSentAt is null && tree.Children.Length == 1 &&
                       now - tree.ChildrenChangedAt >= Settings.RelayBypassAfter && tree.Rounds.Values.All(round => round.Closed);
        if (!eligible)
        {
            return tree;
        }

        effects.Add(new SendToPeer(tree.Parent!.Value.Address, new Bypass(tree.Topic, Self, tree.Children[0])));

        // Ask again only after another full delay, should this one go unanswered.
        return tree with { ChildrenChangedAt = now };
    }

    private ForestStep OnBypass(TreeTopology tree, Bypass bypass, ImmutableArray<ForestEffect>.Builder effects)
    {
        var index = tree.IndexOfChild(bypass.Relay.Id);
        var child = bypass.Child.Handle;
        if (index < 0 || child.Id == Self.Id || tree.Path.Contains(child.Id) || tree.IndexOfChild(child.Id) >= 0)
        {
            return new(this, []);
        }

        // Open rounds stop waiting for the relay; the child's partial for them would arrive unexpected and be dropped.
        var swapped = StopAwaiting(
            tree with { Children = tree.Children.SetItem(index, bypass.Child with { SubtreeSize = Math.Max(1, bypass.Child.SubtreeSize) }) },
            bypass.Relay.Id,
            effects);

        effects.Add(new SendToPeer(child.Address, new SubscribeAccepted(tree.Topic, Self, Zone, tree.Path.Add(Self.Id))));
        return Done(swapped, effects);
    }
}
