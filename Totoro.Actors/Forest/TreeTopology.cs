using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

internal enum TreeRole
{
    /// <summary>Root of the topic's tree in the home zone (the coordinator's node).</summary>
    Root,

    /// <summary>Root of a zone-local subtree, itself a child in the home zone's tree.</summary>
    ZoneHead,

    /// <summary>On the path of other members' subscriptions, not subscribed itself.</summary>
    Forwarder,

    /// <summary>Subscribed, no children.</summary>
    Subscriber,

    /// <summary>Subscribed and forwarding for children.</summary>
    SubscriberAndForwarder,
}

/// <summary>A child of a tree node: where it is, which zone, and how many members its subtree reported.</summary>
internal readonly record struct ChildInfo(NodeHandle Handle, int Zone, int SubtreeSize);

/// <summary>
/// One fold round at one node, keyed by (topic, round): the running combination of what arrived, which children
/// were expected when the round opened, which reported, and whether the node's own contribution is still due.
/// </summary>
internal sealed record FoldRound(
    long Round,
    string Kind,
    object Value,
    ImmutableArray<NodeId> Contributors,
    ImmutableHashSet<NodeId> Expected,
    ImmutableHashSet<NodeId> Reported,
    bool AwaitsOwn,
    bool Closed)
{
    /// <summary>When the publish opened this round here (node-local time).</summary>
    public TimeSpan OpenedAt { get; init; }

    public bool IsComplete => !AwaitsOwn && Expected.IsSubsetOf(Reported);
}

/// <summary>What a node can say about its place in one topic's tree.</summary>
internal sealed record TreeReport(
    TopicId Topic,
    TreeRole Role,
    int Depth,
    int FanOut,
    int SubtreeSize,
    NodeHandle? Parent,
    bool IsAttached,
    int LatePartials,
    int DuplicatePartials,
    int DuplicateMessages);

/// <summary>
/// One node's part in one topic's tree: parent, children, ancestor path, multicast de-duplication and the open
/// fold rounds. A node forwarding for many applications holds one of these per topic and never mixes them.
/// </summary>
internal sealed record TreeTopology
{
    public TreeTopology(TopicId topic, int homeZone, int zone)
    {
        Topic = topic;
        HomeZone = homeZone;
        Zone = zone;
    }

    public TopicId Topic { get; }

    public int HomeZone { get; }

    /// <summary>The zone of the node holding this tree: it only ever joins the tree scoped to its own zone.</summary>
    public int Zone { get; }

    public bool IsSubscriber { get; init; }

    /// <summary>A subscribe for this node's scope was delivered here: root of the home tree or head of a zone subtree.</summary>
    public bool IsScopeRoot { get; init; }

    /// <summary>The topic was created here: the root keeps it even with no members.</summary>
    public bool IsCreated { get; init; }

    public NodeHandle? Parent { get; init; }

    public int ParentZone { get; init; }

    /// <summary>Ancestors from the root down to the parent. Kept through a re-subscription: a node never adopts one of them.</summary>
    public ImmutableArray<NodeId> Path { get; init; } = [];

    public ImmutableArray<ChildInfo> Children { get; init; } = [];

    public TimeSpan ParentHeardAt { get; init; }

    /// <summary>When a child was last added or removed here (node-local time): how long the children have been as they are.</summary>
    public TimeSpan ChildrenChangedAt { get; init; }

    /// <summary>Set while a subscribe is in flight and not yet accepted.</summary>
    public TimeSpan? SubscribeSentAt { get; init; }

    public ImmutableArray<long> RecentMessageIds { get; init; } = [];

    public ImmutableSortedDictionary<long, FoldRound> Rounds { get; init; } = ImmutableSortedDictionary<long, FoldRound>.Empty;

    public int LatePartials { get; init; }

    public int DuplicatePartials { get; init; }

    public int DuplicateMessages { get; init; }

    public bool IsHomeRoot => IsScopeRoot && Zone == HomeZone;

    public bool IsZoneHead => IsScopeRoot && Zone != HomeZone;

    /// <summary>Connected toward the root: the root itself, or a node with an accepted parent.</summary>
    public bool IsAttached => IsHomeRoot || Parent is not null;

    public int Depth => Path.Length;

    public int SubtreeSize => 1 + Children.Sum(child => child.SubtreeSize);

    public TreeRole Role => IsHomeRoot ? TreeRole.Root
        : IsZoneHead ? TreeRole.ZoneHead
        : !IsSubscriber ? TreeRole.Forwarder
        : Children.IsEmpty ? TreeRole.Subscriber
        : TreeRole.SubscriberAndForwarder;

    /// <summary>The zone whose ring this node's next subscribe runs in: a zone head joins the home tree.</summary>
    public int SubscribeScope => IsZoneHead ? HomeZone : Zone;

    public int IndexOfChild(NodeId id)
    {
        for (var index = 0; index < Children.Length; index++)
        {
            if (Children[index].Handle.Id == id)
            {
                return index;
            }
        }

        return -1;
    }

    public TreeReport Describe() =>
        new(Topic, Role, Depth, Children.Length, SubtreeSize, Parent, IsAttached, LatePartials, DuplicatePartials, DuplicateMessages);
}
