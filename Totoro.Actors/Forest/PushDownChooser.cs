using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>
/// Chooses the child a full tree node pushes a newcomer down to (the forest's parent choice). Any child is safe:
/// the child is below this node and the subscriber is not an ancestor of it, so push-down cannot close a loop
/// whatever is chosen, and the fan-out cap is kept because the full node adopts nobody.
/// </summary>
internal interface IPushDownChooser
{
    /// <summary>One of <paramref name="children"/> (non-empty) of this node's tree for <paramref name="topic"/>.</summary>
    ChildInfo Choose(NodeHandle self, TopicId topic, NodeHandle subscriber, ImmutableArray<ChildInfo> children);

    /// <summary>Whether <see cref="Observe"/> does anything (the state emits <see cref="ChildFoldReported"/> only then).</summary>
    bool Learns { get; }

    /// <summary>Feedback from the shell: <paramref name="child"/>'s subtree reported a fold round <paramref name="latency"/> after it opened here.</summary>
    void Observe(NodeHandle self, TopicId topic, NodeId child, TimeSpan latency);
}

/// <summary>The default rule: the child sharing the longest id prefix with the subscriber, then the smallest subtree, then the lowest id. Stateless.</summary>
internal sealed class PrefixPushDownChooser : IPushDownChooser
{
    public static PrefixPushDownChooser Instance { get; } = new();

    public bool Learns => false;

    public void Observe(NodeHandle self, TopicId topic, NodeId child, TimeSpan latency)
    {
    }

    public ChildInfo Choose(NodeHandle self, TopicId topic, NodeHandle subscriber, ImmutableArray<ChildInfo> children) =>
        children
            .OrderByDescending(child => SharedPrefixBits(child.Handle.Id, subscriber.Id))
            .ThenBy(child => child.SubtreeSize)
            .ThenBy(child => child.Handle.Id)
            .First();

    private static int SharedPrefixBits(NodeId left, NodeId right) => (int)UInt128.LeadingZeroCount(left.Value ^ right.Value);
}

/// <summary>
/// Push-down through an <see cref="IPathPlanner"/>: the decision point is (this node, the topic's key), the arms are
/// the children (RTT unmeasured: the forest keeps none), the feedback each child's fold-report latency per round
/// (<see cref="ChildFoldReported"/>, performed by the shell). The planner is mutable and owned by the forest actor's
/// thread, like the ring's next-hop planner; <see cref="ForestState"/> stays an immutable value that holds it.
/// </summary>
internal sealed class PlannerPushDownChooser(IPathPlanner planner) : IPushDownChooser
{
    public IPathPlanner Planner => planner;

    public bool Learns => true;

    /// <summary>The cost of a child is its subtree's fold latency (seconds) at this node: what the choice of parent costs the round.</summary>
    public void Observe(NodeHandle self, TopicId topic, NodeId child, TimeSpan latency) =>
        planner.Observe(new DecisionPoint(self.Id, topic.Key), child, Math.Max(0, latency.TotalSeconds));

    public ChildInfo Choose(NodeHandle self, TopicId topic, NodeHandle subscriber, ImmutableArray<ChildInfo> children)
    {
        if (children.IsDefaultOrEmpty)
        {
            throw new ArgumentException("No children to push down to.", nameof(children));
        }

        var candidates = children.Select(child => PeerEntry.Unmeasured(child.Handle.Id, child.Handle.Address)).ToImmutableArray();
        var chosen = planner.Choose(new DecisionPoint(self.Id, topic.Key), candidates);
        foreach (var child in children)
        {
            if (child.Handle.Id == chosen.Id)
            {
                return child;
            }
        }

        throw new InvalidOperationException($"Planner {planner.Name} chose {chosen.Id}, which is not a child");
    }
}
