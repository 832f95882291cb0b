using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Forest;

/// <summary>
/// How forest messages leave a node: the seam between the forest actor and the network. Over the kernel's remoting
/// (<see cref="TransportForestLinks"/>, and the node's TCP links) or, for very large simulations, straight to
/// actors on one system with delays from the network model (<see cref="Sim.ForestSimulationNetwork"/>).
/// </summary>
internal interface IForestLinks
{
    /// <summary>True when the links report a message to a dead peer back to its sender as <see cref="ForestPeerUnreachable"/>; otherwise the shell acknowledges sends itself.</summary>
    bool ReportsUnreachable { get; }

    /// <summary>Sends a <see cref="ForestEnvelope"/> or an <see cref="AckedForestEnvelope"/> to the forest actor of <paramref name="to"/>.</summary>
    void Send(NodeAddress from, NodeAddress to, object message, IActorRef sender);
}

/// <summary>A tree message that expects a <see cref="ForestAck"/>: the shell's acknowledgement over plain remoting.</summary>
internal sealed record AckedForestEnvelope(long Seq, ForestEnvelope Envelope);

/// <summary>The peer's forest actor took message <see cref="Seq"/>.</summary>
internal sealed record ForestAck(long Seq);

/// <summary>Timer to self: no <see cref="ForestAck"/> for <see cref="Seq"/> in time; the peer is declared dead.</summary>
internal sealed record ForestAckTimeout(long Seq) : ILocalMessage;

/// <summary>Forest messages over the kernel's remoting: node i's forest actor at the <paramref name="book"/> path, one ref per peer.</summary>
internal sealed class TransportForestLinks(ActorSystem system, RingAddressBook book) : IForestLinks
{
    private readonly Dictionary<int, IActorRef> _refs = [];

    public bool ReportsUnreachable => false;

    public void Send(NodeAddress from, NodeAddress to, object message, IActorRef sender)
    {
        if (!_refs.TryGetValue(to.Value, out var target))
        {
            target = system.Resolve(book.PathOf(to));
            _refs[to.Value] = target;
        }

        target.Tell(message, sender);
    }
}

/// <summary>
/// The ring's upcalls for forest payloads, Scribe's way. The ring calls <see cref="Forward"/> on its own actor's
/// thread, so the forest state (owned by the forest actor) cannot be read here. Instead, a subscribe for this node's
/// zone ring that passes through is always absorbed and handed to the forest actor, which adopts the child and, where
/// the node was not yet in the tree, routes its own subscribe onward (or re-routes the original one when it may not
/// adopt). Deliveries are handed over the same way. The decisions stay in <see cref="ForestState"/>.
/// </summary>
internal sealed class ForestUpcalls(IActorRef forest, NodeId self, int zone) : IRouteApplication
{
    public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
    {
        if (context.Payload is not SubscribeRequest request || request.Scope != zone || request.Subscriber.Id == self)
        {
            return ForwardVerdict.Continue;
        }

        forest.Tell(new ForestRouteArrived(context, Delivered: false));
        return ForwardVerdict.Absorb;
    }

    public void Deliver(RouteContext context) => forest.Tell(new ForestRouteArrived(context, Delivered: true));
}

/// <summary>Approximate protobuf size of a forest message, for bandwidth modelling when messages travel by reference.</summary>
internal static class ForestWireSize
{
    private const int Header = 24;
    private const int Handle = 26;
    private const int Id = 18;

    public static long Of(ForestEnvelope envelope) => Of(envelope.Message) + envelope.Blob.Length;

    public static long Of(ForestMessage message) => message switch
    {
        SubscribeRequest => Header + Handle + 12,
        SubscribeAccepted accepted => Header + Handle + (Id * accepted.Path.Length),
        PushDown => Header + Handle + 12,
        TreeHeartbeat heartbeat => Header + Handle + (Id * heartbeat.Path.Length),
        Multicast multicast => Header + 16 + BodySize(multicast.Content.Body) + (multicast.Fold is null ? 0 : 24),
        FoldPartial partial => Header + Handle + BodySize(partial.Value) + (Id * partial.Contributors.Length),
        _ => Header + Handle,
    };

    private static long BodySize(object body) => body switch
    {
        ISizedMessage sized => sized.WireSize,
        float[] vector => 4L * vector.Length,
        ReadOnlyMemory<float> vector => 4L * vector.Length,
        string text => text.Length,
        _ => 16,
    };
}
