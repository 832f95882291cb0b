using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>Every message of the forest protocol that travels node to node or comes back as a timer.</summary>
internal abstract record ForestMessage(TopicId Topic);

/// <summary>
/// Routed through the ring toward <see cref="TopicId.KeyIn"/>(<see cref="Scope"/>): <see cref="Subscriber"/> asks to
/// join the tree. <see cref="Scope"/> is the zone ring the route runs in; a node of another zone passes it on.
/// <see cref="SubtreeSize"/> is what the subscriber already carries (an orphaned subtree re-attaching).
/// </summary>
internal sealed record SubscribeRequest(
    TopicId Topic,
    int HomeZone,
    int Scope,
    NodeHandle Subscriber,
    int SubscriberZone,
    int SubtreeSize) : ForestMessage(Topic)
{
    public NodeId Key => Topic.KeyIn(Scope, HomeZone);
}

/// <summary>Routed toward the topic key in the home zone: the node it is delivered to becomes the root.</summary>
internal sealed record CreateTopicRequest(TopicId Topic, int HomeZone) : ForestMessage(Topic);

/// <summary>
/// Parent → child: adopted. <see cref="Path"/> lists the child's ancestors from the root down to the parent; the
/// child refuses to adopt any of them, which is what keeps push-down and repair from closing a loop.
/// </summary>
internal sealed record SubscribeAccepted(TopicId Topic, NodeHandle Parent, int ParentZone, ImmutableArray<NodeId> Path) : ForestMessage(Topic);

/// <summary>A full parent hands <see cref="Request"/> to one of its children, which adopts the subscriber or pushes further.</summary>
internal sealed record PushDown(TopicId Topic, SubscribeRequest Request) : ForestMessage(Topic);

/// <summary>
/// Relay → its parent: a forwarder that relays for <see cref="Child"/> alone asks the parent to adopt the child in its
/// place (ForestState.Bypass.cs).
/// </summary>
internal sealed record Bypass(TopicId Topic, NodeHandle Relay, ChildInfo Child) : ForestMessage(Topic);

/// <summary>Child → parent: drop me (no children and no local subscription left, or I found a new parent).</summary>
internal sealed record Unsubscribe(TopicId Topic, NodeHandle Child) : ForestMessage(Topic);

/// <summary>Parent → children keep-alive, carrying the children's ancestor path (sent at once when the path changes).</summary>
internal sealed record TreeHeartbeat(TopicId Topic, NodeHandle Parent, ImmutableArray<NodeId> Path) : ForestMessage(Topic);

/// <summary>A large payload stored outside the message: the shell moves the blob once per tree edge.</summary>
internal sealed record BlobRef(string Id, long Size);

/// <summary>What a multicast carries: a small body and, optionally, a blob reference.</summary>
internal sealed record MulticastContent(object Body, BlobRef? Blob);

/// <summary>Opens fold round <see cref="Round"/> with combiner <see cref="Kind"/>; <see cref="Budget"/> is the root's wait.</summary>
internal sealed record FoldRequest(long Round, string Kind, TimeSpan Budget);

/// <summary>Down the tree from the root: delivered to every subscriber once per <see cref="MessageId"/>.</summary>
internal sealed record Multicast(TopicId Topic, long MessageId, MulticastContent Content, FoldRequest? Fold) : ForestMessage(Topic);

/// <summary>
/// Child → parent: the fold of <see cref="Child"/>'s subtree for <see cref="Round"/>. <see cref="Contributors"/> is
/// sorted; a parent refuses a partial that shares a contributor with what it already holds.
/// </summary>
internal sealed record FoldPartial(
    TopicId Topic,
    long Round,
    string Kind,
    NodeHandle Child,
    object Value,
    ImmutableArray<NodeId> Contributors,
    int SubtreeSize) : ForestMessage(Topic);

/// <summary>Root → down: the topic is gone; every node drops its tree.</summary>
internal sealed record DestroyTopic(TopicId Topic) : ForestMessage(Topic);

/// <summary>Timer to self: the fold deadline of (<see cref="ForestMessage.Topic"/>, <see cref="Round"/>).</summary>
internal sealed record FoldDeadline(TopicId Topic, long Round) : ForestMessage(Topic);

/// <summary>Timer to self: heartbeats, parent timeouts and subscribe retries for every topic.</summary>
internal sealed record ForestTick() : ForestMessage(default(TopicId))
{
    public static ForestTick Instance { get; } = new();
}
