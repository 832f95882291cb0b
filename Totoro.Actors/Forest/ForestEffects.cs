using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>What a forest handler asks its shell to do, in order.</summary>
internal abstract record ForestEffect;

/// <summary>Send <paramref name="Message"/> straight to a tree neighbour (its blob, if any, travels with it).</summary>
internal sealed record SendToPeer(NodeAddress To, ForestMessage Message) : ForestEffect;

/// <summary>Route <paramref name="Payload"/> toward <paramref name="Key"/> within ring <paramref name="Ring"/> (the shell calls the ring's Route).</summary>
internal sealed record RouteToKey(NodeId Key, RingId Ring, ForestMessage Payload) : ForestEffect;

/// <summary>Hand a multicast to the local application (this node subscribes to the topic).</summary>
internal sealed record DeliverToApp(TopicId Topic, long MessageId, MulticastContent Content, FoldRequest? Fold) : ForestEffect;

/// <summary>Deliver <paramref name="Timer"/> back to this node after <paramref name="Delay"/>; replaces a pending equal timer.</summary>
internal sealed record StartTimer(ForestMessage Timer, TimeSpan Delay) : ForestEffect;


/// <summary>Drop the pending timer whose message equals <paramref name="Timer"/>.</summary>
internal sealed record StopTimer(ForestMessage Timer) : ForestEffect;

/// <summary>Reports for the FL layer and for measurement.</summary>
internal abstract record ForestReport : ForestEffect;

/// <summary>
/// Child <paramref name="Child"/>'s partial of a fold round arrived <paramref name="Latency"/> after the round opened
/// here: the shell feeds it to a learning <see cref="IPushDownChooser"/> (emitted only for one).
/// </summary>
internal sealed record ChildFoldReported(TopicId Topic, NodeId Child, TimeSpan Latency) : ForestEffect;

/// <summary>At the root: round <paramref name="Round"/> folded; <paramref name="ByDeadline"/> when some expected part never came.</summary>
internal sealed record FoldCompleted(TopicId Topic, long Round, object Value, ImmutableArray<NodeId> Contributors, bool ByDeadline) : ForestReport;

/// <summary>This node became the root of the topic (home zone) or the head of its zone's subtree; the FL layer restores state.</summary>
internal sealed record BecameRoot(TopicId Topic, int Zone, bool IsZoneHead) : ForestReport;

/// <summary>This node is attached to the tree (accepted by <paramref name="Parent"/> at depth <paramref name="Depth"/>).</summary>
internal sealed record Attached(TopicId Topic, NodeHandle Parent, int Depth) : ForestReport;

/// <summary>A fold partial that was not used: late, duplicate, from a non-child, refused by the combiner, or with no parent to go to.</summary>
internal sealed record PartialDropped(TopicId Topic, long Round, NodeId From, string Reason) : ForestReport;

/// <summary>A handler's result: the new state and the effects to perform.</summary>
internal readonly record struct ForestStep(ForestState State, ImmutableArray<ForestEffect> Effects);
