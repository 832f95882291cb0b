using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Forest;

/// <summary>A request from an upper layer on the same node to its <see cref="ForestActor"/>.</summary>
internal abstract record ForestCommand : ILocalMessage;

/// <summary>Create <paramref name="Topic"/> with its root in <paramref name="HomeZone"/>; <paramref name="Listener"/> (if any) gets the topic's reports here.</summary>
internal sealed record CreateForestTopic(TopicId Topic, int HomeZone, IActorRef? Listener) : ForestCommand;

/// <summary>This node joins <paramref name="Topic"/>'s tree as a member; <paramref name="Subscriber"/> gets its deliveries and reports.</summary>
internal sealed record JoinTopic(TopicId Topic, int HomeZone, IActorRef Subscriber) : ForestCommand;

/// <summary><paramref name="Listener"/> gets the topic's reports (fold results at the root, root changes) without this node subscribing.</summary>
internal sealed record ListenToTopic(TopicId Topic, IActorRef Listener) : ForestCommand;

/// <summary><paramref name="Subscriber"/> stops; when no local subscriber is left the node leaves the topic as a member.</summary>
internal sealed record LeaveTopic(TopicId Topic, IActorRef Subscriber) : ForestCommand;

/// <summary>
/// At the root: multicast <paramref name="Body"/> (small, carried inline) and <paramref name="Blob"/> (large, moved
/// once per tree edge) as message <paramref name="MessageId"/>; <paramref name="Fold"/> opens a fold round with it.
/// The sender gets <see cref="PublishRefused"/> when this node is not the topic's root.
/// </summary>
internal sealed record PublishToTopic(TopicId Topic, long MessageId, object Body, ReadOnlyMemory<byte> Blob, FoldRequest? Fold) : ForestCommand;

/// <summary>The local worker's partial for (<paramref name="Topic"/>, <paramref name="Round"/>).</summary>
internal sealed record ContributeToRound(TopicId Topic, long Round, object Partial) : ForestCommand;

/// <summary>The local worker sits (<paramref name="Topic"/>, <paramref name="Round"/>) out.</summary>
internal sealed record AbstainFromRound(TopicId Topic, long Round) : ForestCommand;

/// <summary>At the root: end the topic; every tree node drops it.</summary>
internal sealed record DestroyForestTopic(TopicId Topic) : ForestCommand;

/// <summary><paramref name="Observer"/> gets every delivery and report of this node, for every topic (simulation, tests).</summary>
internal sealed record ObserveForest(IActorRef Observer) : ForestCommand;

/// <summary>Asks for a <see cref="ForestSnapshot"/> (ops palette, tests, simulation).</summary>
internal sealed record GetTreeReport : ForestCommand
{
    public static GetTreeReport Instance { get; } = new();
}

/// <summary>This node's whole forest state: every topic's <see cref="TreeTopology"/>.</summary>
internal sealed record ForestSnapshot(ForestState State) : ILocalMessage;

/// <summary>A multicast handed to a local subscriber: once per <paramref name="MessageId"/>.</summary>
internal sealed record ForestDelivery(NodeHandle At, TopicId Topic, long MessageId, object Body, ReadOnlyMemory<byte> Blob, FoldRequest? Fold) : ILocalMessage;

/// <summary>A report of the forest core (fold completed, became root, attached, partial dropped, root handed over) at node <paramref name="At"/>.</summary>
internal sealed record ForestNotification(NodeHandle At, ForestReport Report) : ILocalMessage;

/// <summary>Answer to a <see cref="PublishToTopic"/> on a node that is not the topic's root.</summary>
internal sealed record PublishRefused(TopicId Topic, long MessageId, string Reason) : ILocalMessage;

/// <summary>From the ring's upcalls to the forest actor of the same node: a forest payload was delivered here or passed through.</summary>
internal sealed record ForestRouteArrived(RouteContext Context, bool Delivered) : ILocalMessage;

/// <summary>From the links: a forest message to <paramref name="Peer"/> could not be delivered (the peer is gone).</summary>
internal sealed record ForestPeerUnreachable(NodeAddress Peer) : ILocalMessage;

/// <summary>
/// What forest actors send each other: a tree message and, for a multicast with a <see cref="BlobRef"/>, the blob's
/// bytes, which travel once per tree edge and are never stored beyond the handling of the message.
/// </summary>
internal sealed record ForestEnvelope(ForestMessage Message, ReadOnlyMemory<byte> Blob);
