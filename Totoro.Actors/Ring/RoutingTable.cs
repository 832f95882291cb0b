namespace Totoro.Actors.Ring;

/// <summary>
/// Pastry routing table with proximity neighbour selection. Row r holds nodes that share r leading digits with
/// the owner and differ at digit r; column d holds those whose digit r is d. Each slot keeps up to
/// <see cref="CandidatesPerSlot"/> entries ordered by measured RTT (unmeasured last, then by id).
/// </summary>
/// <remarks>
/// Memory layout: one <see cref="PeerEntry"/> array per non-empty row holding only the occupied slots, sorted
/// by (column, RTT, id); rows below the deepest occupied one are not allocated. An update copies one row and the
/// small array of row references; every other row is shared with the previous version.
/// </remarks>
internal sealed class RoutingTable
{
    private static readonly PeerEntry[]?[] NoRows = [];

    [ThreadStatic]
    private static PeerEntry[][]? t_rowScratch;
    private readonly PeerEntry[]?[] rows;

    private RoutingTable(NodeId owner, IdGeometry geometry, int candidatesPerSlot, int sparseCandidates, int sparseFromRow, PeerEntry[]?[] rows)
    {
        Owner = owner;
        Geometry = geometry;
        CandidatesPerSlot = candidatesPerSlot;
        SparseCandidates = sparseCandidates;
        SparseFromRow = sparseFromRow;
        this.rows = rows;
    }

    public NodeId Owner { get; }

    public IdGeometry Geometry { get; }

    public int CandidatesPerSlot { get; }

    /// <summary>Candidates a slot keeps in the sparse rows (from <see cref="SparseFromRow"/> down); ≥ <see cref="CandidatesPerSlot"/>.</summary>
    public int SparseCandidates { get; }

    /// <summary>
    /// The first sparse row: one whose slot blocks hold only a few nodes in the whole ring, so a slot's candidates are
    /// nearly all the nodes of its block. Set by the owner from its leaf set's span (<see cref="WithSparseFromRow"/>);
    /// <see cref="int.MaxValue"/> (none) until then.
    /// </summary>
    public int SparseFromRow { get; }

    /// <summary>How many candidates a slot of <paramref name="row"/> keeps.</summary>
    public int CapacityOf(int row) => row >= SparseFromRow ? SparseCandidates : CandidatesPerSlot;

    /// <summary>Number of allocated rows (one past the deepest non-empty row).</summary>
    public int Depth => rows.Length;

    public int Count
    {
        get
        {
            var count = 0;
            foreach (var row in rows)
            {
                count += row?.Length ?? 0;
            }

            return count;
        }
    }

    public static RoutingTable Empty(NodeId owner, IdGeometry geometry, int candidatesPerSlot, int sparseExtraCandidates = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidatesPerSlot, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(sparseExtraCandidates);
        return new RoutingTable(owner, geometry, candidatesPerSlot, candidatesPerSlot + sparseExtraCandidates, int.MaxValue, NoRows);
    }

    /// <summary>
    /// This table with <paramref name="row"/> as its first sparse row. Rows that stop being sparse (the ring grew) drop
    /// their extra candidates, worst first; rows that become sparse keep room for more from now on.
    /// </summary>
    public RoutingTable WithSparseFromRow(int row)
    {
        if (row == SparseFromRow || SparseCandidates == CandidatesPerSlot)
        {
            return row == SparseFromRow ? this : new RoutingTable(Owner, Geometry, CandidatesPerSlot, SparseCandidates, row, rows);
        }

        var copy = rows;
        var rowCapacity = Geometry.Columns * SparseCandidates;
        var buffer = rowCapacity <= 256 ? stackalloc PeerEntry[rowCapacity] : new PeerEntry[rowCapacity];
        for (var trimmed = SparseFromRow; trimmed < Math.Min(row, rows.Length); trimmed++)
        {
            if (rows[trimmed] is not { } entries)
            {
                continue;
            }

            var kept = entries.Length <= buffer.Length ? buffer : new PeerEntry[entries.Length];
            var count = 0;
            var column = -1;
            var inSlot = 0;
            foreach (var entry in entries)
            {
                var digit = Geometry.Digit(entry.Id, trimmed);
                inSlot = digit == column ? inSlot + 1 : 1;
                column = digit;
                if (inSlot <= CandidatesPerSlot)
                {
                    kept[count++] = entry;
                }
            }

            if (count < entries.Length)
            {
                copy = ReferenceEquals(copy, rows) ? (PeerEntry[]?[])rows.Clone() : copy;
                copy[trimmed] = kept[..count].ToArray();
            }
        }

        return new RoutingTable(Owner, Geometry, CandidatesPerSlot, SparseCandidates, row, copy);
    }

    public (int Row, int Column) PlaceOf(NodeId id)
    {
        var row = Geometry.SharedPrefixLength(Owner, id);
        return (row, Geometry.Digit(id, row));
    }

    public ReadOnlySpan<PeerEntry> Row(int row) =>
        row < rows.Length && rows[row] is { } entries ? entries : ReadOnlySpan<PeerEntry>.Empty;

    public ReadOnlySpan<PeerEntry> Slot(int row, int column)
    {
        var entries = Row(row);
        var (start, length) = SlotRange(entries, row, column);
        return entries.Slice(start, length);
    }

    public IEnumerable<PeerEntry> Entries()
    {
        foreach (var row in rows)
        {
            if (row is null)
            {
                continue;
            }

            foreach (var entry in row)
            {
                yield return entry;
            }
        }
    }

    public bool Contains(NodeId id) => Find(id) is not null;

    public PeerEntry? Find(NodeId id)
    {
        if (id == Owner)
        {
            return null;
        }

        var (row, column) = PlaceOf(id);
        foreach (var entry in Slot(row, column))
        {
            if (entry.Id == id)
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>
    /// Adds or refreshes an entry. A known id keeps its measured RTT when the update carries none. When the slot is
    /// full the worst candidate is evicted only if the new one ranks better. Returns this instance when nothing changes.
    /// </summary>
    public RoutingTable Insert(PeerEntry entry)
    {
        if (entry.Id == Owner)
        {
            return this;
        }

        var (row, column) = PlaceOf(entry.Id);
        var current = Row(row);
        var (start, length) = SlotRange(current, row, column);
        var slot = current.Slice(start, length);
        var index = slot.IndexOfId(entry.Id);
        if (index < 0 ? length >= CapacityOf(row) && Rank(entry, slot[^1]) > 0
                      : slot[index].Address == entry.Address && (!entry.HasRtt || slot[index].RttMicros == entry.RttMicros))
        {
            // The common case while a ring fills up: the slot is full of better candidates, or nothing changes.
            return this;
        }

        if (index >= 0 && length == 1)
        {
            // A slot's only candidate gets a new address or RTT (the common update with one candidate per slot): no
            // re-ranking, one copied row.
            var refreshed = entry.HasRtt ? entry : entry with { RttMicros = slot[0].RttMicros };
            var row1 = current.ToArray();
            row1[start] = refreshed;
            return WithRow(row, row1);
        }

        // The new slot, built on the stack (a slot holds a handful of candidates): the known entry refreshed in place or
        // the new one added, in rank order, the worst dropped when over capacity.
        var capacity = CapacityOf(row);
        var candidates = length + 1 <= 64 ? stackalloc PeerEntry[length + 1] : new PeerEntry[length + 1];
        var count = 0;
        var updated = entry;
        if (index >= 0)
        {
            updated = entry.HasRtt ? entry : entry with { RttMicros = slot[index].RttMicros };
            if (updated == slot[index])
            {
                return this;
            }
        }

        var placed = false;
        foreach (var existing in slot)
        {
            if (existing.Id == entry.Id)
            {
                continue;
            }

            if (!placed && Rank(updated, existing) < 0)
            {
                candidates[count++] = updated;
                placed = true;
            }

            candidates[count++] = existing;
        }

        if (!placed)
        {
            candidates[count++] = updated;
        }

        if (count > capacity)
        {
            if (candidates[count - 1].Id == entry.Id)
            {
                return this;
            }

            count--;
        }

        return WithRow(row, Splice(current, start, length, candidates[..count]));
    }

    /// <summary>
    /// The same as inserting each entry in turn, with one copy per touched row instead of one per entry (a joiner
    /// learns ~100 entries at once). The touched rows are edited in per-thread scratch buffers and frozen at the end.
    /// </summary>
    public RoutingTable InsertMany(ReadOnlySpan<PeerEntry> entries)
    {
        if (entries.Length <= 1)
        {
            return entries.Length == 0 ? this : Insert(entries[0]);
        }

        var digits = Geometry.DigitCount;
        Span<int> counts = stackalloc int[digits];
        counts.Fill(-1);
        var scratch = RowScratch(digits, (Geometry.Columns * SparseCandidates) + 1);
        var deepest = -1;
        foreach (var entry in entries)
        {
            if (entry.Id == Owner)
            {
                continue;
            }

            var (row, column) = PlaceOf(entry.Id);
            var edited = counts[row] >= 0;
            var current = edited ? new ReadOnlySpan<PeerEntry>(scratch[row], 0, counts[row]) : Row(row);
            var (start, length) = SlotRange(current, row, column);
            var slot = current.Slice(start, length);
            var index = slot.IndexOfId(entry.Id);
            if (index < 0 ? length >= CapacityOf(row) && Rank(entry, slot[^1]) > 0
                          : slot[index].Address == entry.Address && (!entry.HasRtt || slot[index].RttMicros == entry.RttMicros))
            {
                continue;
            }

            var buffer = scratch[row]!;
            if (!edited)
            {
                current.CopyTo(buffer);
                counts[row] = current.Length;
                deepest = Math.Max(deepest, row);
            }

            var count = counts[row];
            var updated = index < 0 ? entry : entry.HasRtt ? entry : entry with { RttMicros = buffer[start + index].RttMicros };
            if (index >= 0)
            {
                Array.Copy(buffer, start + index + 1, buffer, start + index, count - start - index - 1);
                count--;
                length--;
            }

            var position = start;
            while (position < start + length && Rank(buffer[position], updated) < 0)
            {
                position++;
            }

            Array.Copy(buffer, position, buffer, position + 1, count - position);
            buffer[position] = updated;
            count++;
            if (length + 1 > CapacityOf(row))
            {
                Array.Copy(buffer, start + length + 1, buffer, start + length, count - start - length - 1);
                count--;
            }

            counts[row] = count;
        }

        if (deepest < 0)
        {
            return this;
        }

        var copy = new PeerEntry[]?[Math.Max(rows.Length, deepest + 1)];
        Array.Copy(rows, copy, rows.Length);
        for (var row = 0; row <= deepest; row++)
        {
            if (counts[row] >= 0)
            {
                copy[row] = counts[row] == 0 ? null : scratch[row].AsSpan(0, counts[row]).ToArray();
            }
        }

        var depth = copy.Length;
        while (depth > 0 && copy[depth - 1] is null)
        {
            depth--;
        }

        return new RoutingTable(Owner, Geometry, CandidatesPerSlot, SparseCandidates, SparseFromRow, depth == copy.Length ? copy : depth == 0 ? NoRows : copy[..depth]);
    }

    public RoutingTable Remove(NodeId id)
    {
        if (id == Owner)
        {
            return this;
        }

        var (row, column) = PlaceOf(id);
        var current = Row(row);
        var (start, length) = SlotRange(current, row, column);
        var index = current.Slice(start, length).IndexOfId(id);
        if (index < 0)
        {
            return this;
        }

        var remaining = length <= 64 ? stackalloc PeerEntry[length - 1] : new PeerEntry[length - 1];
        var count = 0;
        foreach (var entry in current.Slice(start, length))
        {
            if (entry.Id != id)
            {
                remaining[count++] = entry;
            }
        }

        return WithRow(row, Splice(current, start, length, remaining));
    }

    /// <summary>Approximate heap bytes owned by this version (row arrays plus the row index), for budgeting.</summary>
    public long ApproximateBytes(bool includeSharedRows = true)
    {
        const int arrayHeader = 24;
        long bytes = rows.Length == 0 ? 0 : arrayHeader + (8L * rows.Length);
        if (includeSharedRows)
        {
            foreach (var row in rows)
            {
                bytes += row is null ? 0 : arrayHeader + (System.Runtime.CompilerServices.Unsafe.SizeOf<PeerEntry>() * (long)row.Length);
            }
        }

        return bytes;
    }

    /// <summary>
    /// The order of candidates within a slot: lower measured RTT first; unmeasured candidates (and equal RTTs) in an
    /// order of their own for every owner (a hash of owner and id). With the raw id as tie-break every node would keep
    /// the same unmeasured candidate per slot (the lowest id it ever heard of), and since a joiner copies its rows from
    /// the nodes on its join path, the few nodes that fill the shallow rows early stay in almost every table: at 10⁵
    /// the first 64 nodes were on 63 % of all join paths and their 1 Mbit/s uplinks queued join replies for seconds.
    /// </summary>
    internal int Rank(PeerEntry left, PeerEntry right)
    {
        var byRtt = left.RttMicros.CompareTo(right.RttMicros);
        if (byRtt != 0)
        {
            return byRtt;
        }

        var byOwnerHash = OwnerHash(left.Id).CompareTo(OwnerHash(right.Id));
        return byOwnerHash != 0 ? byOwnerHash : left.Id.CompareTo(right.Id);
    }

    private ulong OwnerHash(NodeId id)
    {
        // SplitMix64's finalizer over the id folded with the owner: a per-owner pseudo-random permutation of ids.
        var x = (ulong)id.Value ^ (ulong)(id.Value >> 64) ^ ((ulong)Owner.Value * 0x9E3779B97F4A7C15UL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    internal static int CompareByProximity(PeerEntry left, PeerEntry right)
    {
        var byRtt = left.RttMicros.CompareTo(right.RttMicros);
        return byRtt != 0 ? byRtt : left.Id.CompareTo(right.Id);
    }

    /// <summary>
    /// This thread's row buffers for <see cref="InsertMany"/>, at least <paramref name="rows"/> of at least
    /// <paramref name="rowCapacity"/> entries each (a row holds at most columns × candidates, plus one being inserted).
    /// Reused across calls, so a batch allocates only the frozen rows.
    /// </summary>
    private static PeerEntry[][] RowScratch(int rows, int rowCapacity)
    {
        var scratch = t_rowScratch;
        if (scratch is null || scratch.Length < rows || scratch[0].Length < rowCapacity)
        {
            scratch = new PeerEntry[rows][];
            for (var row = 0; row < rows; row++)
            {
                scratch[row] = new PeerEntry[rowCapacity];
            }

            t_rowScratch = scratch;
        }

        return scratch;
    }

    private (int Start, int Length) SlotRange(ReadOnlySpan<PeerEntry> entries, int row, int column)
    {
        // A row holds a few dozen entries sorted by column: a linear scan beat two binary searches (measured).
        var start = 0;
        while (start < entries.Length && Geometry.Digit(entries[start].Id, row) < column)
        {
            start++;
        }

        var end = start;
        while (end < entries.Length && Geometry.Digit(entries[end].Id, row) == column)
        {
            end++;
        }

        return (start, end - start);
    }

    private static PeerEntry[]? Splice(ReadOnlySpan<PeerEntry> row, int start, int length, ReadOnlySpan<PeerEntry> slot)
    {
        var size = row.Length - length + slot.Length;
        if (size == 0)
        {
            return null;
        }

        var result = new PeerEntry[size];
        row[..start].CopyTo(result);
        slot.CopyTo(result.AsSpan(start));
        row[(start + length)..].CopyTo(result.AsSpan(start + slot.Length));
        return result;
    }

    private RoutingTable WithRow(int row, PeerEntry[]? entries)
    {
        var copy = new PeerEntry[]?[Math.Max(rows.Length, row + 1)];
        Array.Copy(rows, copy, rows.Length);
        copy[row] = entries;
        var depth = copy.Length;
        while (depth > 0 && copy[depth - 1] is null)
        {
            depth--;
        }

        return new RoutingTable(Owner, Geometry, CandidatesPerSlot, SparseCandidates, SparseFromRow, depth == copy.Length ? copy : depth == 0 ? NoRows : copy[..depth]);
    }
}

internal static class PeerEntrySpanExtensions
{
    public static int IndexOfId(this ReadOnlySpan<PeerEntry> entries, NodeId id)
    {
        for (var index = 0; index < entries.Length; index++)
        {
            if (entries[index].Id == id)
            {
                return index;
            }
        }

        return -1;
    }
}
