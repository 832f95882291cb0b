namespace Totoro.Actors.Ring;

/// <summary>The <see cref="Capacity"/> nodes with the lowest measured RTT (proximity, not id); seeds locality at join.</summary>
internal sealed class NeighborhoodSet
{
    private readonly PeerEntry[] entries;

    private NeighborhoodSet(int capacity, PeerEntry[] entries)
    {
        Capacity = capacity;
        this.entries = entries;
    }

    public int Capacity { get; }

    public ReadOnlySpan<PeerEntry> Entries => entries;

    public static NeighborhoodSet Empty(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        return new NeighborhoodSet(capacity, []);
    }

    public bool Contains(NodeId id) => entries.AsSpan().IndexOfId(id) >= 0;

    /// <summary>Adds a measured entry if it ranks among the closest; unmeasured entries are ignored. Returns this when unchanged.</summary>
    public NeighborhoodSet Insert(PeerEntry entry)
    {
        if (!entry.HasRtt || Capacity == 0)
        {
            return this;
        }

        var existing = entries.AsSpan().IndexOfId(entry.Id);
        if (existing >= 0 && entries[existing].RttMicros == entry.RttMicros)
        {
            return this;
        }

        if (existing < 0 && entries.Length >= Capacity && RoutingTable.CompareByProximity(entry, entries[^1]) > 0)
        {
            // Full of closer nodes: the common case for every measured peer that is not a neighbour.
            return this;
        }

        var list = new List<PeerEntry>(entries.Length + 1);
        foreach (var current in entries)
        {
            if (current.Id != entry.Id)
            {
                list.Add(current);
            }
        }

        list.Add(entry);
        list.Sort(RoutingTable.CompareByProximity);
        if (list.Count > Capacity)
        {
            if (list[^1].Id == entry.Id && existing < 0)
            {
                return this;
            }

            list.RemoveAt(list.Count - 1);
        }

        return new NeighborhoodSet(Capacity, [.. list]);
    }

    public NeighborhoodSet Remove(NodeId id)
    {
        var index = entries.AsSpan().IndexOfId(id);
        if (index < 0)
        {
            return this;
        }

        var result = new PeerEntry[entries.Length - 1];
        entries.AsSpan(0, index).CopyTo(result);
        entries.AsSpan(index + 1).CopyTo(result.AsSpan(index));
        return new NeighborhoodSet(Capacity, result);
    }

    public long ApproximateBytes() =>
        32 + 24 + ((long)System.Runtime.CompilerServices.Unsafe.SizeOf<PeerEntry>() * entries.Length);
}
