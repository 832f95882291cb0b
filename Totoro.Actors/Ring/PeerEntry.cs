namespace Totoro.Actors.Ring;

/// <summary>
/// Where to reach a node: an opaque 32-bit handle that the transport maps to an endpoint (in simulation, the
/// node's index). A value type so that ring state holds no per-entry objects.
/// </summary>
public readonly record struct NodeAddress(int Value)
{
    public override string ToString() => "@" + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A known node: id, address and this node's last measured round-trip time to it. 24 bytes.</summary>
public readonly record struct PeerEntry(NodeId Id, NodeAddress Address, uint RttMicros)
{
    /// <summary>RTT of a node we have heard of but not yet measured; such entries sort after measured ones.</summary>
    public const uint UnknownRtt = uint.MaxValue;

    public static PeerEntry Unmeasured(NodeId id, NodeAddress address) => new(id, address, UnknownRtt);

    public static PeerEntry Measured(NodeId id, NodeAddress address, TimeSpan rtt) =>
        new(id, address, (uint)Math.Clamp(rtt.Ticks / TimeSpan.TicksPerMicrosecond, 0, UnknownRtt - 1));

    public bool HasRtt => RttMicros != UnknownRtt;

    public override string ToString() => $"{Id.ToShortString()}{Address}";
}
