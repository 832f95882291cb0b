using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>How peers enter and leave the state: learning (measured or not), tombstones, and handle lists for replies.</summary>
internal sealed partial record RingNodeState
{
    private RingNodeState Reply(NodeHandle to, RingMessage reply, ImmutableArray<RingEffect>.Builder effects)
    {
        effects.Add(new Send(to.Address, reply));
        return this;
    }

    /// <summary>
    /// A message straight from a node proves it is alive (it rejoined, or was suspected wrongly): lift its tombstone.
    /// Tombstones only stop hearsay — stale leaf sets and rows that still name the node.
    /// </summary>
    private RingNodeState HeardFrom(NodeHandle sender)
    {
        var index = -1;
        for (var i = 0; i < Tombstones.Length && index < 0; i++)
        {
            index = Tombstones[i].Id == sender.Id ? i : -1;
        }

        return index < 0 ? this : this with { Tombstones = Tombstones.RemoveAt(index) };
    }

    private bool IsTombstoned(NodeId id, TimeSpan now)
    {
        foreach (var tombstone in Tombstones)
        {
            if (tombstone.Id == id && tombstone.Until > now)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Learns many unmeasured peers at once: the routing table takes them in one batch (one copy per touched row).</summary>
    private RingNodeState LearnAll(LeafSetView peers, TimeSpan now)
    {
        var handles = peers.Length <= 256 ? stackalloc NodeHandle[peers.Length] : new NodeHandle[peers.Length];
        return LearnAll(handles[..peers.CopyTo(handles)], now);
    }

    private RingNodeState LearnAll(ReadOnlySpan<NodeHandle> peers, TimeSpan now)
    {
        var learned = peers.Length <= 256 ? stackalloc PeerEntry[peers.Length] : new PeerEntry[peers.Length];
        var count = 0;
        foreach (var peer in peers)
        {
            if (peer.Id != Self.Id && !IsTombstoned(peer.Id, now))
            {
                learned[count++] = peer.Unmeasured();
            }
        }

        var leaves = Leaves.InsertMany(learned[..count]);
        var table = Sparsened(leaves).InsertMany(learned[..count]);
        return ReferenceEquals(leaves, Leaves) && ReferenceEquals(table, Table) ? this : this with { Leaves = leaves, Table = table };
    }

    private RingNodeState LearnUnmeasured(NodeHandle peer, TimeSpan now)
    {
        if (peer.Id == Self.Id || IsTombstoned(peer.Id, now))
        {
            return this;
        }

        var leaves = Leaves.Insert(peer.Unmeasured());
        var table = Sparsened(leaves).Insert(peer.Unmeasured());
        return ReferenceEquals(leaves, Leaves) && ReferenceEquals(table, Table) ? this : this with { Leaves = leaves, Table = table };
    }

    private RingNodeState LearnMeasured(NodeHandle peer, TimeSpan rtt, TimeSpan now)
    {
        if (peer.Id == Self.Id || IsTombstoned(peer.Id, now))
        {
            return this;
        }

        var entry = PeerEntry.Measured(peer.Id, peer.Address, rtt);
        if ((Leaves.Find(peer.Id) ?? Table.Find(peer.Id)) is { HasRtt: true } known && known.Address == peer.Address &&
            IsJitter(known.RttMicros, entry.RttMicros))
        {
            // A sample within an eighth of the stored RTT is jitter: keep the stored one, so no set is rewritten.
            entry = known;
        }

        var index = Monitors.IndexOf(peer.Id);
        var monitors = index < 0
            ? Monitors
            : Monitors.WithDetector(index, Monitors.DetectorAt(index).Heartbeat(now, Settings.FailureDetector));
        var leaves = Leaves.Insert(entry);
        var table = Sparsened(leaves).Insert(entry);
        var neighbors = Neighbors.Insert(entry);
        return index < 0 && ReferenceEquals(leaves, Leaves) && ReferenceEquals(table, Table) && ReferenceEquals(neighbors, Neighbors)
            ? this
            : this with { Leaves = leaves, Table = table, Neighbors = neighbors, Monitors = monitors };
    }

    /// <summary>
    /// The table with its sparse rows placed for <paramref name="leaves"/>: from the first row whose slot blocks are no
    /// wider than half the leaf set's span (so each holds about L/2 nodes or fewer). Unchanged while the leaf set is not full
    /// (a small ring, whose leaf set sees nearly everything).
    /// </summary>
    private RoutingTable Sparsened(LeafSet leaves)
    {
        if (Table.SparseCandidates == Table.CandidatesPerSlot || leaves.FullSpan is not { } span)
        {
            return Table;
        }

        var geometry = Settings.Geometry;
        var row = 0;
        while (row < geometry.DigitCount - 1 && geometry.BlockWidth(row) > span / 2)
        {
            row++;
        }

        return Table.WithSparseFromRow(row);
    }

    private static bool IsJitter(uint stored, uint sample) => (ulong)Math.Abs((long)sample - stored) * 8 <= stored;

    private PeerEntry? FindByAddress(NodeAddress address) =>
        KnownPeers().Select(peer => (PeerEntry?)peer).FirstOrDefault(peer => peer!.Value.Address == address);

    private ImmutableArray<NodeHandle> SlotHandles(int row, int column) =>
        row >= 0 && row < Settings.Geometry.DigitCount && column >= 0 && column < Settings.Geometry.Columns
            ? Handles(Table.Slot(row, column).ToArray())
            : [];

    private static ImmutableArray<NodeHandle> Handles(IEnumerable<PeerEntry> entries) => [.. entries.Select(NodeHandle.Of)];
}
