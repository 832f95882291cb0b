using System.Collections.Immutable;
using System.Globalization;
using Totoro.Kernel;

namespace Totoro.Actors.Ring;

/// <summary>
/// How one node enters the overlay: its handle (address + zone-ring id), its zone, the settings, and for each ring
/// either "start it" (no bootstrap) or a known node to join through. A gateway also has a global-ring id
/// (<see cref="ZoneKeys.GlobalIdFor"/>) and a global bootstrap. <see cref="Planner"/> chooses among a routing
/// decision's valid next hops (default: lowest RTT); one planner serves both rings of the node.
/// </summary>
internal sealed record RingMembershipStart(
    NodeHandle Self,
    int Zone,
    RingSettings Settings,
    NodeAddress? ZoneBootstrap,
    bool IsGateway,
    NodeAddress? GlobalBootstrap)
{
    /// <summary>The next-hop planner of this node's ring states; if it is an <see cref="IHopFeedback"/>, the shell reports hop acknowledgement times to it.</summary>
    public INextHopPlanner Planner { get; init; } = LowestRttPlanner.Instance;

    public RingStep<MultiRingNodeState> Begin(INextHopPlanner planner)
    {
        var zoneStep = ZoneBootstrap is { } zoneContact
            ? RingNodeState.CreateJoining(Self, zoneContact, Settings, planner)
            : RingNodeState.CreateFirst(Self, Settings, planner);
        RingStep<RingNodeState>? globalStep = null;
        if (IsGateway)
        {
            var globalSelf = new NodeHandle(ZoneKeys.GlobalIdFor(Zone, Self.Id), Self.Address);
            globalStep = GlobalBootstrap is { } globalContact
                ? RingNodeState.CreateJoining(globalSelf, globalContact, Settings, planner)
                : RingNodeState.CreateFirst(globalSelf, Settings, planner);
        }

        return MultiRingNodeState.Compose(Zone, zoneStep, globalStep);
    }
}

/// <summary>A request from an upper layer on the same node to a <see cref="RingMembershipActor"/>.</summary>
internal abstract record RingCommand : ILocalMessage;

/// <summary>
/// Route <paramref name="Payload"/> to the live node numerically closest to <paramref name="Key"/> within ring
/// <paramref name="Ring"/> (the own zone, another zone via the gateways, or <see cref="RingId.Global"/>). The
/// destination's application for the payload's type gets <see cref="IRouteApplication.Deliver"/>; every intermediate
/// hop's gets <see cref="IRouteApplication.Forward"/>.
/// </summary>
internal sealed record RouteRequest(NodeId Key, RingId Ring, object Payload) : RingCommand;

/// <summary>Payloads of type <paramref name="PayloadType"/> (exact runtime type) go to <paramref name="Application"/> on this node.</summary>
internal sealed record RegisterRouteApplication(Type PayloadType, IRouteApplication Application) : RingCommand;

/// <summary><paramref name="Subscriber"/> receives <see cref="RingJoined"/>, <see cref="RingPeerFailed"/> and <see cref="RingRouteAbandoned"/>.</summary>
internal sealed record SubscribeRingEvents(IActorRef Subscriber) : RingCommand;

/// <summary><paramref name="Watcher"/> receives a <see cref="RingLeafSetChanged"/> whenever the zone ring's leaf set changes (ops, tests).</summary>
internal sealed record WatchLeafSet(IActorRef Watcher) : RingCommand;

/// <summary>Leave gracefully: hand the leaf sets over, then stop the actor.</summary>
internal sealed record LeaveRing : RingCommand
{
    public static LeaveRing Instance { get; } = new();
}

/// <summary>Asks for a <see cref="RingStateSnapshot"/> (tests, simulation, diagnostics).</summary>
internal sealed record GetRingState : RingCommand
{
    public static GetRingState Instance { get; } = new();
}

internal sealed record RingStateSnapshot(MultiRingNodeState State) : ILocalMessage;

/// <summary>A node's membership of one ring is complete: it routes and answers from now on.</summary>
internal sealed record RingJoined(NodeHandle Node) : ILocalMessage;

/// <summary>The zone ring's leaf set of <paramref name="Node"/> is now <paramref name="Leaves"/>.</summary>
internal sealed record RingLeafSetChanged(NodeHandle Node, ImmutableArray<NodeHandle> Leaves) : ILocalMessage;

/// <summary>A peer was declared dead by this node (failure detector, failed delivery, or its leave notice).</summary>
internal sealed record RingPeerFailed(NodeHandle Observer, NodeHandle Peer) : ILocalMessage;

/// <summary>A routed message was dropped at this node.</summary>
internal sealed record RingRouteAbandoned(NodeHandle At, NodeId Key, object Payload, int Hops, string Reason) : ILocalMessage;

/// <summary>
/// How ring messages leave a node: the seam between the actor shell and the network. Over the kernel's remoting
/// (<see cref="TransportRingLinks"/>) or, for very large simulations, straight to actors on one system with delays
/// from the network model (<see cref="Sim.SimulatedRingNetwork"/>).
/// </summary>
internal interface IRingLinks
{
    /// <summary>
    /// True when the links themselves report a routed message that cannot reach its next hop (as a
    /// <see cref="DeliveryFailed"/> to the sender). Otherwise the shell acknowledges each routed hop itself.
    /// </summary>
    bool ReportsFailedHops { get; }

    /// <summary>Sends a <see cref="RingEnvelope"/> or an <see cref="AckedHop"/> to the ring actor of <paramref name="to"/>.</summary>
    void Send(NodeAddress from, NodeAddress to, object message, IActorRef sender);
}

/// <summary>A routed hop that expects a <see cref="HopAck"/>: the shell's per-hop acknowledgement over plain remoting.</summary>
internal sealed record AckedHop(long Seq, RingEnvelope Envelope);

/// <summary>The next hop took the routed message numbered <see cref="Seq"/>.</summary>
internal sealed record HopAck(long Seq);

/// <summary>Timer to self: no <see cref="HopAck"/> for hop <see cref="Seq"/> in time.</summary>
internal sealed record HopTimeout(long Seq) : ILocalMessage;

/// <summary>
/// Maps the core's <see cref="NodeAddress"/> handle to the kernel path of that node's ring actor. Computed, not
/// stored: node i is system <c>System@{HostPrefix}{i}:{Port}</c>, so the book costs no memory per node.
/// </summary>
internal sealed record RingAddressBook(string System, string HostPrefix, int Port, string ActorName)
{
    public static RingAddressBook Default { get; } = new("totoro", "node-", 2552, "ring");

    public Address AddressOf(NodeAddress node) => new(System, HostPrefix + node.Value.ToString(CultureInfo.InvariantCulture), Port);

    public string PathOf(NodeAddress node) => $"{AddressOf(node)}/user/{ActorName}";

    /// <summary>The ring address of a kernel address in this book, or null for an address outside it.</summary>
    public NodeAddress? NodeOf(Address address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.System == System && address.Port == Port && address.Host is { } host && host.StartsWith(HostPrefix, StringComparison.Ordinal) &&
               int.TryParse(host.AsSpan(HostPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? new NodeAddress(index)
            : null;
    }
}

/// <summary>Ring messages over the kernel's remoting: one ref per peer, resolved from the address book on first use.</summary>
internal sealed class TransportRingLinks(ActorSystem system, RingAddressBook book) : IRingLinks
{
    private readonly Dictionary<int, IActorRef> _refs = [];

    public bool ReportsFailedHops => false;


    public void Send(NodeAddress from, NodeAddress to, object message, IActorRef sender) => RefOf(to).Tell(message, sender);

    private IActorRef RefOf(NodeAddress to)
    {
        if (!_refs.TryGetValue(to.Value, out var target))
        {
            target = system.Resolve(book.PathOf(to));
            _refs[to.Value] = target;
        }

        return target;
    }
}

/// <summary>The ring core's notion of "now": a monotonic time span read from the actor system's clock (virtual under a world).</summary>
internal static class RingClock
{
    public static TimeSpan Now(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return At(time, time.GetTimestamp());
    }

    /// <summary>The ring time at which <paramref name="time"/>'s <see cref="TimeProvider.GetTimestamp"/> reads <paramref name="timestamp"/>.</summary>
    public static TimeSpan At(TimeProvider time, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(time);
        return TimeSpan.FromTicks((long)(timestamp * ((double)TimeSpan.TicksPerSecond / time.TimestampFrequency)));
    }
}

/// <summary>
/// Approximate protobuf size of a ring message (16-byte id + address + tags per handle), for bandwidth modelling when
/// messages travel by reference and are never serialized.
/// </summary>
internal static class RingWireSize
{
    private const int Header = 16;
    private const int Handle = 26;

    public static int Of(RingMessage message) => message switch
    {
        RouteMessage route => Header + Handle + 18 + PayloadSize(route.Payload),
        JoinReply reply => Header + (Handle * (1 + reply.Rows.Length + reply.Neighborhood.Length + reply.LeafSet.Length)),
        AnnounceReply reply => Header + 18 + (Handle * (1 + reply.LeafSet.Length)),
        LeafSetReply reply => Header + (Handle * (1 + reply.LeafSet.Length)),
        RowEntryReply reply => Header + (Handle * (1 + reply.Candidates.Length)),
        RowReply reply => Header + 4 + (Handle * (1 + reply.Entries.Length)),
        LeaveNotice notice => Header + (Handle * (1 + notice.LeafSet.Length)),
        _ => Header + Handle + 9,
    };

    private static int PayloadSize(object payload) => payload switch
    {
        JoinPayload => Handle + 4,
        LeafSetProbe => Handle,
        CrossZonePayload crossing => 24 + (4 * crossing.SegmentHops.Length) + PayloadSize(crossing.Payload),
        Kernel.ISizedMessage sized => sized.WireSize,
        _ => 64,
    };
}
