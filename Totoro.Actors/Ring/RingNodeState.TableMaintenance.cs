using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>
/// Periodic routing-table maintenance (Pastry's row exchange, Castro et al. 2002). A join copies each row once, from
/// the path node that shares that row's prefix, and a newcomer announces itself only to its leaf and neighbourhood
/// sets and its deepest rows; so a node keeps every hole its row had when it was copied, however many nodes with
/// that prefix join later. Each period, for every row that still has room, the node asks one node sharing at least
/// that row's prefix (an entry of the row, rotating; else a node of a deeper row or of the leaf set) for its copy of
/// the row. Every entry of that row is valid for us too; the ones that fit a slot with room are probed and fill our
/// holes when they answer. Cost per node and period: one request and one reply (≤ 2^b × candidates handles) per row
/// with room, plus one probe and reply per new entry that fits.
/// <para>
/// Proximity refresh (<see cref="RingSettings.ProximityProbes"/>, every <see cref="RingSettings.ProximityRefreshEvery"/>-th
/// period): a join copies rows from nodes that are near the
/// joiner's path, not near the joiner, and full slots would keep the first nodes they heard of forever (the early
/// joiners, who then forward for a large share of all routes). So each period also fetches one full row, rotating,
/// and spends a budget of probes, first on that row's unmeasured entries (join copies), then on returned nodes we
/// lack (the replier's best candidate of each slot). A probe reply carries a measured RTT; the table ranks measured
/// candidates before unmeasured ones and lower RTTs first, so a measured node displaces an unmeasured or farther
/// one: the slots converge toward the nearest nodes with that prefix, as Pastry's proximity neighbour selection
/// assumes. Extra cost per period: one request and reply, and at most the budget in probes and replies.
/// </para>
/// </summary>
internal sealed partial record RingNodeState
{
    /// <summary>The rows a maintenance round would refresh, each with the node to ask (for tests and diagnostics).</summary>
    public IEnumerable<(int Row, PeerEntry Contact)> MaintenanceTargets()
    {
        for (var row = 0; row < Table.Depth; row++)
        {
            if (RowHasRoom(row) && MaintenanceContact(row) is { } contact)
            {
                yield return (row, contact);
            }
        }
    }

    private RingNodeState OnTableMaintenanceTick(TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Ready || Settings.TableMaintenanceInterval <= TimeSpan.Zero)
        {
            return this;
        }

        foreach (var (row, contact) in MaintenanceTargets())
        {
            effects.Add(new Send(contact.Address, new RowRequest(Self, row)));
        }

        var refresh = (MaintenanceRound + 1) % Settings.ProximityRefreshEvery == 0;
        var budget = refresh ? Settings.ProximityProbes : 0;
        if (refresh && ProximityRow() is { } full && MaintenanceContact(full) is { } refresher)
        {
            effects.Add(new Send(refresher.Address, new RowRequest(Self, full)));

            // Entries a join copied are unranked; measured newcomers would displace them whether or not they are
            // nearer. Measuring them first lets the ranking keep the near ones.
            foreach (var entry in Table.Row(full))
            {
                if (budget > 0 && !entry.HasRtt && entry.Id != refresher.Id)
                {
                    effects.Add(new Send(entry.Address, new Probe(Self, now)));
                    budget--;
                }
            }
        }

        effects.Add(new ScheduleTimer(TableMaintenanceTick.Instance, Settings.TableMaintenanceInterval));
        return this with { MaintenanceRound = MaintenanceRound + 1, ProximityBudget = budget };
    }

    /// <summary>
    /// The replier is alive (it answered) and is learned at once. Its entries are hearsay: one may name a node that
    /// crashed and that the replier has not noticed yet, so each entry that would fill a slot with room is probed
    /// first, and enters the table (and, if it belongs there, the leaf set) only when its <see cref="ProbeReply"/>
    /// arrives, with its RTT measured. Entries we know and tombstoned nodes cost nothing; a full slot costs a probe only
    /// while a proximity refresh has budget left (<see cref="ProximityBudget"/>), for the replier's best candidate of it.
    /// </summary>
    private RingNodeState OnRowReply(RowReply reply, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var state = HeardFrom(reply.Sender).LearnUnmeasured(reply.Sender, now);
        var budget = state.ProximityBudget;
        var lastSlot = (Row: -1, Column: -1);
        foreach (var candidate in reply.Entries)
        {
            if (candidate.Id == Self.Id || candidate.Id == reply.Sender.Id || state.IsTombstoned(candidate.Id, now) ||
                state.Table.Contains(candidate.Id))
            {
                continue;
            }

            var slot = state.Table.PlaceOf(candidate.Id);
            if (state.SlotHasRoom(candidate.Id))
            {
                effects.Add(new Send(candidate.Address, new Probe(Self, now)));
            }
            else if (budget > 0 && slot != lastSlot)
            {
                // A full slot: probe the replier's best candidate we lack (its entries come slot by slot, each
                // slot's in the replier's RTT order); it replaces our worst one if it answers faster.
                effects.Add(new Send(candidate.Address, new Probe(Self, now)));
                budget--;
                lastSlot = slot;
            }
        }

        return budget == state.ProximityBudget ? state : state with { ProximityBudget = budget };
    }

    /// <summary>The full row this period's proximity refresh fetches: rows rotate from one refresh to the next.</summary>
    private int? ProximityRow()
    {
        if (Settings.ProximityProbes == 0)
        {
            return null;
        }

        var depth = Table.Depth;
        for (var i = 0; i < depth; i++)
        {
            var row = (int)(((MaintenanceRound / Settings.ProximityRefreshEvery) + i) % depth);
            if (Table.Row(row).Length > 0 && !RowHasRoom(row))
            {
                return row;
            }
        }

        return null;
    }

    private bool SlotHasRoom(NodeId id)
    {
        var (row, column) = Table.PlaceOf(id);
        return Table.Slot(row, column).Length < Table.CandidatesPerSlot;
    }

    /// <summary>True when some slot of <paramref name="row"/> (other than our own column) holds fewer than the allowed candidates.</summary>
    private bool RowHasRoom(int row)
    {
        var entries = Table.Row(row);
        // A sparse row's slots may hold more than the base count; holes are judged against the base count only.
        if (entries.Length >= (Settings.Geometry.Columns - 1) * Table.CapacityOf(row))
        {
            return false;
        }

        var own = Settings.Geometry.Digit(Self.Id, row);
        for (var column = 0; column < Settings.Geometry.Columns; column++)
        {
            if (column != own && Table.Slot(row, column).Length < Table.CandidatesPerSlot)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A node whose row <paramref name="row"/> is valid for us: one sharing at least <paramref name="row"/> digits with
    /// us. Entries of the row itself come first, rotating with <see cref="MaintenanceRound"/> (offset by our id, so
    /// the nodes of a region do not all ask the same one); then any deeper entry or leaf.
    /// </summary>
    private PeerEntry? MaintenanceContact(int row)
    {
        var entries = Table.Row(row);
        if (entries.Length > 0)
        {
            var offset = (ulong)(Self.Id.Value & ulong.MaxValue) + (ulong)MaintenanceRound;
            return entries[(int)(offset % (ulong)entries.Length)];
        }

        for (var deeper = row + 1; deeper < Table.Depth; deeper++)
        {
            if (Table.Row(deeper).Length > 0)
            {
                return Table.Row(deeper)[0];
            }
        }

        foreach (var leaf in Leaves.Members())
        {
            if (Settings.Geometry.SharedPrefixLength(Self.Id, leaf.Id) >= row)
            {
                return leaf;
            }
        }

        return null;
    }

    private ImmutableArray<NodeHandle> RowHandles(int row) =>
        row >= 0 && row < Settings.Geometry.DigitCount ? Handles(Table.Row(row).ToArray()) : [];
}
