namespace Totoro.Actors.Ring;

/// <summary>
/// The numerically closest nodes: up to <see cref="HalfSize"/> on each side of the owner, nearest first.
/// A side only holds nodes within half the ring in its direction. Without that rule a side left short by
/// failures would fill up with nodes from the far side of the ring, and leaf-set repair would then ask the
/// wrong node. In a ring too small to fill both sides, the keys between the two farthest leaves are left to
/// the routing table and the rare-case rule, which still end at the closest node because every node is known.
/// </summary>
internal sealed class LeafSet
{
    private static readonly UInt128 HalfRing = UInt128.One << 127;
    private readonly PeerEntry[] clockwise;
    private readonly PeerEntry[] counterClockwise;

    private LeafSet(NodeId owner, int halfSize, PeerEntry[] clockwise, PeerEntry[] counterClockwise)
    {
        Owner = owner;
        HalfSize = halfSize;
        this.clockwise = clockwise;
        this.counterClockwise = counterClockwise;
    }

    public NodeId Owner { get; }

    public int HalfSize { get; }

    /// <summary>Larger ids (clockwise), nearest first.</summary>
    public ReadOnlySpan<PeerEntry> Clockwise => clockwise;

    /// <summary>Smaller ids (counter-clockwise), nearest first.</summary>
    public ReadOnlySpan<PeerEntry> CounterClockwise => counterClockwise;

    public bool IsEmpty => clockwise.Length == 0 && counterClockwise.Length == 0;

    /// <summary>The distinct members as a message carries them, sharing this version's arrays.</summary>
    public LeafSetView ToView() => LeafSetView.FromSides(clockwise, counterClockwise);

    public static LeafSet Empty(NodeId owner, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        return new LeafSet(owner, size / 2, [], []);
    }

    /// <summary>Distinct members (a node on both sides appears once).</summary>
    public IEnumerable<PeerEntry> Members()
    {
        foreach (var entry in clockwise)
        {
            yield return entry;
        }

        foreach (var entry in counterClockwise)
        {
            if (clockwise.AsSpan().IndexOfId(entry.Id) < 0)
            {
                yield return entry;
            }
        }
    }

    public bool Contains(NodeId id) =>
        clockwise.AsSpan().IndexOfId(id) >= 0 || counterClockwise.AsSpan().IndexOfId(id) >= 0;

    public PeerEntry? Find(NodeId id)
    {
        var index = clockwise.AsSpan().IndexOfId(id);
        if (index >= 0)
        {
            return clockwise[index];
        }

        index = counterClockwise.AsSpan().IndexOfId(id);
        return index >= 0 ? counterClockwise[index] : null;
    }

    /// <summary>True when <paramref name="key"/> lies between the farthest leaves, or nothing is known at all.</summary>
    public bool Covers(NodeId key)
    {
        if (IsEmpty)
        {
            return true;
        }

        var withinClockwise = clockwise.Length > 0 && Owner.ClockwiseTo(key) <= Owner.ClockwiseTo(clockwise[^1].Id);
        var withinCounter = counterClockwise.Length > 0 &&
                            Owner.CounterClockwiseTo(key) <= Owner.CounterClockwiseTo(counterClockwise[^1].Id);
        return withinClockwise || withinCounter;
    }

    public PeerEntry? FarthestClockwise => clockwise.Length > 0 ? clockwise[^1] : null;

    /// <summary>
    /// The arc from the farthest counter-clockwise leaf to the farthest clockwise one (saturating), or null while a side
    /// is not full: about L node spacings, the owner's local estimate of the ring's density.
    /// </summary>
    public UInt128? FullSpan
    {
        get
        {
            if (clockwise.Length < HalfSize || counterClockwise.Length < HalfSize)
            {
                return null;
            }

            var forward = Owner.ClockwiseTo(clockwise[^1].Id);
            var backward = Owner.CounterClockwiseTo(counterClockwise[^1].Id);
            return forward > UInt128.MaxValue - backward ? UInt128.MaxValue : forward + backward;
        }
    }

    public PeerEntry? FarthestCounterClockwise => counterClockwise.Length > 0 ? counterClockwise[^1] : null;

    public PeerEntry? NearestClockwise => clockwise.Length > 0 ? clockwise[0] : null;

    public PeerEntry? NearestCounterClockwise => counterClockwise.Length > 0 ? counterClockwise[0] : null;

    public bool IsOnClockwiseSide(NodeId id) => clockwise.AsSpan().IndexOfId(id) >= 0;

    public bool IsOnCounterClockwiseSide(NodeId id) => counterClockwise.AsSpan().IndexOfId(id) >= 0;

    /// <summary>Adds or refreshes <paramref name="entry"/> on each side where it ranks among the nearest. Returns this when unchanged.</summary>
    public LeafSet Insert(PeerEntry entry)
    {
        if (entry.Id == Owner)
        {
            return this;
        }

        var newClockwise = InsertSide(clockwise, entry, clockwiseSide: true);
        var newCounter = InsertSide(counterClockwise, entry, clockwiseSide: false);
        return ReferenceEquals(newClockwise, clockwise) && ReferenceEquals(newCounter, counterClockwise)
            ? this
            : new LeafSet(Owner, HalfSize, newClockwise, newCounter);
    }

    /// <summary>
    /// The same as inserting each entry in turn, with at most one new array per side instead of one per entry (a joiner
    /// and an announcer's neighbours learn a whole leaf set at once).
    /// </summary>
    public LeafSet InsertMany(ReadOnlySpan<PeerEntry> entries)
    {
        if (entries.Length <= 1)
        {
            return entries.Length == 0 ? this : Insert(entries[0]);
        }

        var newClockwise = InsertManySide(clockwise, entries, clockwiseSide: true);
        var newCounter = InsertManySide(counterClockwise, entries, clockwiseSide: false);
        return ReferenceEquals(newClockwise, clockwise) && ReferenceEquals(newCounter, counterClockwise)
            ? this
            : new LeafSet(Owner, HalfSize, newClockwise, newCounter);
    }

    public LeafSet Remove(NodeId id)
    {
        var newClockwise = RemoveFrom(clockwise, id);
        var newCounter = RemoveFrom(counterClockwise, id);
        return ReferenceEquals(newClockwise, clockwise) && ReferenceEquals(newCounter, counterClockwise)
            ? this
            : new LeafSet(Owner, HalfSize, newClockwise, newCounter);
    }

    public long ApproximateBytes()
    {
        const int arrayHeader = 24;
        var entry = System.Runtime.CompilerServices.Unsafe.SizeOf<PeerEntry>();
        return 48 + (2 * arrayHeader) + ((long)entry * (clockwise.Length + counterClockwise.Length));
    }

    private UInt128 Distance(NodeId id, bool clockwiseSide) => clockwiseSide ? Owner.ClockwiseTo(id) : Owner.CounterClockwiseTo(id);

    private PeerEntry[] InsertSide(PeerEntry[] side, PeerEntry entry, bool clockwiseSide)
    {
        var newDistance = Distance(entry.Id, clockwiseSide);
        if (side.Length == HalfSize && newDistance > Distance(side[^1].Id, clockwiseSide))
        {
            // The common case once the side is full: beyond the farthest member, so neither a member nor a newcomer.
            return side;
        }

        var existing = side.AsSpan().IndexOfId(entry.Id);
        if (existing >= 0)
        {
            if (!entry.HasRtt || side[existing].RttMicros == entry.RttMicros)
            {
                return side;
            }

            var refreshed = (PeerEntry[])side.Clone();
            refreshed[existing] = entry;
            return refreshed;
        }

        if (newDistance > HalfRing)
        {
            return side;
        }

        var position = 0;
        while (position < side.Length && Distance(side[position].Id, clockwiseSide) < newDistance)
        {
            position++;
        }

        if (position >= HalfSize)
        {
            return side;
        }

        var length = Math.Min(side.Length + 1, HalfSize);
        var result = new PeerEntry[length];
        side.AsSpan(0, position).CopyTo(result);
        result[position] = entry;
        side.AsSpan(position, length - position - 1).CopyTo(result.AsSpan(position + 1));
        return result;
    }

    private PeerEntry[] InsertManySide(PeerEntry[] side, ReadOnlySpan<PeerEntry> entries, bool clockwiseSide)
    {
        var buffer = HalfSize <= 128 ? stackalloc PeerEntry[HalfSize] : new PeerEntry[HalfSize];
        side.CopyTo(buffer);
        var count = side.Length;
        var changed = false;
        foreach (var entry in entries)
        {
            if (entry.Id == Owner)
            {
                continue;
            }

            var existing = ((ReadOnlySpan<PeerEntry>)buffer[..count]).IndexOfId(entry.Id);
            if (existing >= 0)
            {
                if (entry.HasRtt && buffer[existing].RttMicros != entry.RttMicros)
                {
                    buffer[existing] = entry;
                    changed = true;
                }

                continue;
            }

            var newDistance = Distance(entry.Id, clockwiseSide);
            if (newDistance > HalfRing)
            {
                continue;
            }

            var position = 0;
            while (position < count && Distance(buffer[position].Id, clockwiseSide) < newDistance)
            {
                position++;
            }

            if (position >= HalfSize)
            {
                continue;
            }

            var length = Math.Min(count + 1, HalfSize);
            buffer.Slice(position, length - position - 1).CopyTo(buffer[(position + 1)..]);
            buffer[position] = entry;
            count = length;
            changed = true;
        }

        return changed ? buffer[..count].ToArray() : side;
    }

    private static PeerEntry[] RemoveFrom(PeerEntry[] side, NodeId id)
    {
        var index = side.AsSpan().IndexOfId(id);
        if (index < 0)
        {
            return side;
        }

        var result = new PeerEntry[side.Length - 1];
        side.AsSpan(0, index).CopyTo(result);
        side.AsSpan(index + 1).CopyTo(result.AsSpan(index));
        return result;
    }
}
