using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>Who sent a message: enough to reply and to place the sender in ring state.</summary>
internal readonly record struct NodeHandle(NodeId Id, NodeAddress Address)
{
    public PeerEntry Unmeasured() => PeerEntry.Unmeasured(Id, Address);

    public static NodeHandle Of(PeerEntry entry) => new(entry.Id, entry.Address);

    public override string ToString() => $"{Id.ToShortString()}{Address}";
}

/// <summary>Every message of the ring protocol: between nodes, timers to self, and inputs from the shell.</summary>
internal abstract record RingMessage;

/// <summary>
/// A key-routed message. <see cref="Hops"/> counts overlay hops taken so far, including the one that delivered it.
/// <see cref="Payload"/> is opaque to the ring (the ring's own <see cref="JoinPayload"/> aside).
/// </summary>
internal sealed record RouteMessage(NodeHandle Sender, NodeId Key, object Payload, int Hops) : RingMessage
{
    /// <summary>
    /// The route has left prefix routing: from now on every hop must be numerically closer to the key (see
    /// <see cref="RouteDecider"/>). Set by the first leaf-set hop, or by a hop that could not extend or keep the prefix.
    /// </summary>
    public bool Converging { get; init; }
}

/// <summary>Routed toward the joiner's id: each node on the path answers the joiner with a <see cref="JoinReply"/>.</summary>
internal sealed record JoinPayload(NodeHandle Joiner, int Attempt);

/// <summary>
/// Routed toward the origin's own id through a routing-table entry (one per leaf-set exchange, rotating over the
/// table). The node it reaches answers with its leaf set. When a partition has split the ring into two interleaved
/// rings, the table still names nodes of the other side, so after the heal this finds the origin's true neighbours.
/// </summary>
internal sealed record LeafSetProbe(NodeHandle Origin);

/// <summary>
/// Path node number <see cref="HopIndex"/> hands over its routing-table rows up to the prefix it shares with the
/// joiner; the first node adds its neighbourhood set, the last (numerically closest) adds its leaf set and the
/// path length so the joiner knows when it has every row.
/// </summary>
internal sealed record JoinReply(
    NodeHandle Sender,
    int Attempt,
    int HopIndex,
    ImmutableArray<NodeHandle> Rows,
    ImmutableArray<NodeHandle> Neighborhood,
    LeafSetView LeafSet,
    int? PathLength) : RingMessage;

/// <summary>A node that finished joining tells each node in its state about itself.</summary>
internal sealed record Announce(NodeHandle Sender, TimeSpan SentAt) : RingMessage;

/// <summary>Answers an <see cref="Announce"/>: echo for the announcer's RTT, own timestamp for ours, and our leaf set when the announcer belongs in it.</summary>
internal sealed record AnnounceReply(NodeHandle Sender, TimeSpan EchoSentAt, TimeSpan SentAt, LeafSetView LeafSet) : RingMessage;

/// <summary>RTT measurement and leaf-set heartbeat.</summary>
internal sealed record Probe(NodeHandle Sender, TimeSpan SentAt) : RingMessage;

internal sealed record ProbeReply(NodeHandle Sender, TimeSpan EchoSentAt) : RingMessage;

internal sealed record LeafSetRequest(NodeHandle Sender) : RingMessage;

internal sealed record LeafSetReply(NodeHandle Sender, LeafSetView LeafSet) : RingMessage;

/// <summary>Lazy routing-table repair: "what do you hold in slot (Row, Column)?"</summary>
internal sealed record RowEntryRequest(NodeHandle Sender, int Row, int Column) : RingMessage;

internal sealed record RowEntryReply(NodeHandle Sender, ImmutableArray<NodeHandle> Candidates) : RingMessage;

/// <summary>Periodic routing-table maintenance: "send me your routing-table row <see cref="Row"/>".</summary>
internal sealed record RowRequest(NodeHandle Sender, int Row) : RingMessage;

/// <summary>Answers a <see cref="RowRequest"/> with every entry of the sender's row <see cref="Row"/>.</summary>
internal sealed record RowReply(NodeHandle Sender, int Row, ImmutableArray<NodeHandle> Entries) : RingMessage;

/// <summary>Graceful leave: the leaver's leaf set lets each recipient repair at once.</summary>
internal sealed record LeaveNotice(NodeHandle Sender, LeafSetView LeafSet) : RingMessage;

/// <summary>Timer to self: heartbeat the leaf set and evaluate the failure detectors.</summary>
internal sealed record HeartbeatTick : RingMessage
{
    public static HeartbeatTick Instance { get; } = new();
}

/// <summary>
/// Timer to self: pull the leaf sets of the nearest leaf on each side. Repairs what join races and lost messages
/// leave inconsistent (Pastry's periodic leaf-set maintenance).
/// </summary>
internal sealed record LeafSetExchangeTick : RingMessage
{
    public static LeafSetExchangeTick Instance { get; } = new();
}

/// <summary>
/// Timer to self: routing-table maintenance (Pastry's periodic row exchange). For every row with room, ask one node
/// that shares at least that row's prefix for its copy of the row; its entries fill our holes.
/// </summary>
internal sealed record TableMaintenanceTick : RingMessage
{
    public static TableMaintenanceTick Instance { get; } = new();
}

/// <summary>Timer to self: the join has not completed in time; start it again.</summary>
internal sealed record JoinRetryTick : RingMessage
{
    public static JoinRetryTick Instance { get; } = new();
}

/// <summary>From the shell: <paramref name="Message"/> could not be handed to <paramref name="To"/> (no ack, connection refused).</summary>
internal sealed record DeliveryFailed(NodeAddress To, RingMessage Message) : RingMessage;

/// <summary>Identifies one ring of the multi-ring overlay: a zone ring, or the global ring of gateways.</summary>
internal readonly record struct RingId(int Value)
{
    public static RingId Global { get; } = new(-1);

    public bool IsGlobal => Value == Global.Value;

    public static RingId Zone(int zone)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(zone);
        return new RingId(zone);
    }

    public override string ToString() => IsGlobal ? "global" : "zone" + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A ring message tagged with the ring it belongs to (a gateway runs two rings behind one address).</summary>
internal sealed record RingEnvelope(RingId Ring, RingMessage Message) : RingMessage
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(RingId Ring, RingMessage Timer), RingEnvelope> Timers = new();

    /// <summary>
    /// The envelope of a timer message (the actor timer's key and message): one shared instance per ring and timer
    /// message, since every node re-arms its maintenance timers each period (3 envelopes per node otherwise retained).
    /// Envelopes are immutable, so sharing is invisible; only the field-less ticks are cached (rings × 4 entries).
    /// </summary>
    public static RingEnvelope ForTimer(RingId ring, RingMessage timer) => timer is HeartbeatTick or LeafSetExchangeTick or TableMaintenanceTick or JoinRetryTick
        ? Timers.GetOrAdd((ring, timer), static key => new RingEnvelope(key.Ring, key.Timer))
        : new RingEnvelope(ring, timer);
}

/// <summary>
/// Routed payload of a cross-zone route: the real key, the ring that resolves it, the application payload, and the
/// hops already spent in finished segments.
/// </summary>
internal sealed record CrossZonePayload(NodeId Key, RingId Target, object Payload, ImmutableArray<int> SegmentHops);
