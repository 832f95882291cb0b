namespace Totoro.Actors.Forest;

/// <summary>Forest settings (HOCON section <c>totoro.forest</c>).</summary>
/// <param name="FanOutCap">Most children a tree node keeps; a full node pushes a newcomer down to one of its children.</param>
/// <param name="TickInterval">Period of the forest tick: heartbeats to children, parent timeouts, subscribe retries.</param>
/// <param name="ParentTimeout">Silence from the parent (no heartbeat, no multicast) after which a child re-subscribes.</param>
/// <param name="SubscribeRetry">A subscribe not accepted within this time is routed again.</param>
/// <param name="LevelSlack">
/// How much earlier than its parent a node's fold deadline fires: a node at depth d waits budget − d·slack after the
/// round's publish reached it. Must exceed one edge's round trip plus the upload of one partial.
/// </param>
/// <param name="RecentMessageIds">Multicast ids remembered per topic for de-duplication.</param>
/// <param name="RoundMemory">Closed fold rounds remembered per topic, so late partials are recognised and dropped.</param>
/// <param name="NodeChildBudget">
/// Most children a node keeps in its other trees and still takes on a subscribe of a tree (0: no budget). A node
/// whose children in other trees reach the budget lets a passing subscribe continue toward the key instead of
/// adopting it (it becomes no new forwarder and adopts no new child in a tree it is already in): the next hop,
/// closer to the root, adopts it. A tree's own children never count, so a single tree is shaped as without a budget. The root always accepts (then <paramref name="FanOutCap"/> and push-down apply), and so does a member
/// a full parent pushes a newcomer down to, so every subscribe still ends attached. A node that is the root (or zone
/// head) of several trees keeps the fan-out cap in the first of them and, in each other, this many children of its
/// zone and the tree's home zone, pushing further such newcomers down below them (zone heads of other zones are
/// always adopted).
/// </param>
/// <param name="RelayBypassAfter">
/// A forwarder that is not subscribed itself and has kept exactly one child this long asks its parent to adopt the
/// child in its place and leaves the tree (ForestState.Bypass.cs). Zero: never.
/// </param>
internal sealed record ForestSettings(
    int FanOutCap,
    TimeSpan TickInterval,
    TimeSpan ParentTimeout,
    TimeSpan SubscribeRetry,
    TimeSpan LevelSlack,
    int RecentMessageIds,
    int RoundMemory,
    int NodeChildBudget = 0,
    TimeSpan RelayBypassAfter = default)
{
    public static ForestSettings Default { get; } = new(
        FanOutCap: 32,
        TickInterval: TimeSpan.FromSeconds(1),
        ParentTimeout: TimeSpan.FromSeconds(3.5),
        SubscribeRetry: TimeSpan.FromSeconds(3),
        LevelSlack: TimeSpan.FromSeconds(1),
        RecentMessageIds: 64,
        RoundMemory: 16,
        NodeChildBudget: DefaultNodeChildBudget,
        RelayBypassAfter: TimeSpan.FromSeconds(5));

    /// <summary>
    /// The product default of <see cref="NodeChildBudget"/> (<c>totoro.forest.node-child-budget</c>): 2. It counts other
    /// trees' children only; the first version counted every tree, and then a single 1,000-member tree on 10⁴ nodes
    /// (cap 32) got one level deeper than its bound (depth 6 > 5), so it was off (docs/benchmarks.md, "sim fl: cross-tree
    /// load budget"). It was 8 from session 6 to 10; 2 shares fewer forwarders between trees at the same speedups
    /// (docs/benchmarks.md, "The cross-tree child budget at 2", session 10).
    /// </summary>
    public const int DefaultNodeChildBudget = 2;

    /// <summary>Throws naming the offending key when a value is out of range.</summary>
    public ForestSettings Validated()
    {
        if (FanOutCap < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(FanOutCap), FanOutCap, "totoro.forest.fan-out-cap must be ≥ 2");
        }

        if (TickInterval <= TimeSpan.Zero || SubscribeRetry <= TimeSpan.Zero || LevelSlack <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TickInterval), "totoro.forest intervals must be positive");
        }

        if (ParentTimeout <= TickInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(ParentTimeout), ParentTimeout, "totoro.forest.parent-timeout must exceed tick-interval");
        }

        if (RecentMessageIds < 1 || RoundMemory < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RecentMessageIds), "totoro.forest.recent-message-ids and round-memory must be ≥ 1");
        }

        if (NodeChildBudget < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NodeChildBudget), NodeChildBudget, "totoro.forest.node-child-budget must be ≥ 0 (0: no budget)");
        }

        if (RelayBypassAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RelayBypassAfter), RelayBypassAfter, "totoro.forest.relay-bypass-after must be ≥ 0 (0: never)");
        }

        return this;
    }
}
