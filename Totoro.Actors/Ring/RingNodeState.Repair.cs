using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>Failure detection (heartbeats, phi-accrual monitors of the leaf set), leaf-set exchange, and repair after a failure.</summary>
internal sealed partial record RingNodeState
{
    private RingNodeState OnProbe(Probe probe, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        effects.Add(new Send(probe.Sender.Address, new ProbeReply(Self, probe.SentAt)));
        return HeardFrom(probe.Sender).LearnUnmeasured(probe.Sender, now);
    }

    private RingNodeState OnRowEntryReply(RowEntryReply reply, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        foreach (var candidate in reply.Candidates)
        {
            if (candidate.Id != Self.Id && !IsTombstoned(candidate.Id, now) && !Table.Contains(candidate.Id))
            {
                effects.Add(new Send(candidate.Address, new Probe(Self, now)));
            }
        }

        return LearnUnmeasured(reply.Sender, now);
    }

    private RingNodeState OnHeartbeatTick(TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Ready)
        {
            return this;
        }

        var expired = false;
        foreach (var tombstone in Tombstones)
        {
            expired |= tombstone.Until <= now;
        }

        var state = expired ? this with { Tombstones = Tombstones.RemoveAll(t => t.Until <= now) } : this;
        for (var index = 0; index < Monitors.Count; index++)
        {
            if (!Monitors.DetectorAt(index).IsAvailable(now, Settings.FailureDetector))
            {
                state = state.DeclareDead(Monitors.IdAt(index), now, effects);
            }
        }

        foreach (var leaf in state.Leaves.Members())
        {
            effects.Add(new Send(leaf.Address, new Probe(Self, now)));
        }

        // A side still short after repair keeps pulling leaf sets from its nearest member until it is full.
        if (state.Leaves.Clockwise.Length < state.Leaves.HalfSize)
        {
            state.RequestLeafSets([state.Leaves.NearestClockwise], effects);
        }

        if (state.Leaves.CounterClockwise.Length < state.Leaves.HalfSize)
        {
            state.RequestLeafSets([state.Leaves.NearestCounterClockwise], effects);
        }

        effects.Add(new ScheduleTimer(HeartbeatTick.Instance, Settings.HeartbeatInterval));
        return state;
    }

    private RingNodeState OnLeafSetExchangeTick(ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Ready)
        {
            return this;
        }

        RequestLeafSets([Leaves.NearestClockwise, Leaves.NearestCounterClockwise], effects);
        var tableSize = Table.Count;
        if (tableSize > 0)
        {
            var carrier = Table.Entries().ElementAt(ExchangeRound % tableSize);
            effects.Add(new Send(carrier.Address, new RouteMessage(Self, Self.Id, new LeafSetProbe(Self), 1)));
        }

        effects.Add(new ScheduleTimer(LeafSetExchangeTick.Instance, Settings.LeafSetExchangeInterval));
        return this with { ExchangeRound = ExchangeRound + 1 };
    }

    /// <summary>
    /// Drops a dead peer everywhere and starts repair: the farthest live leaf on each side it occupied (Pastry's
    /// choice: it knows the most nodes beyond the gap) and the nearest (its leaf set continues ours) are asked for
    /// their leaf sets; if it held a routing-table slot, a node sharing at least that row's prefix is asked for that slot.
    /// </summary>
    private RingNodeState DeclareDead(NodeId id, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var wasClockwise = Leaves.IsOnClockwiseSide(id);
        var wasCounterClockwise = Leaves.IsOnCounterClockwiseSide(id);
        (int Row, int Column)? slot = Table.Contains(id) ? Table.PlaceOf(id) : null;
        var state = Forget(id, now, effects, declareFailed: true);

        if (wasClockwise)
        {
            state.RequestLeafSets([state.Leaves.FarthestClockwise, state.Leaves.NearestClockwise], effects);
        }

        if (wasCounterClockwise)
        {
            state.RequestLeafSets([state.Leaves.FarthestCounterClockwise, state.Leaves.NearestCounterClockwise], effects);
        }

        if (slot is { } place && state.RowRepairContact(place.Row, place.Column) is { } contact)
        {
            effects.Add(new Send(contact.Address, new RowEntryRequest(Self, place.Row, place.Column)));
        }

        return state;
    }

    private void RequestLeafSets(PeerEntry?[] contacts, ImmutableArray<RingEffect>.Builder effects)
    {
        foreach (var contact in contacts.OfType<PeerEntry>().DistinctBy(entry => entry.Id))
        {
            effects.Add(new Send(contact.Address, new LeafSetRequest(Self)));
        }
    }

    /// <summary>A node whose slot (row, column) is valid for us: it shares ≥ row digits with us and is not itself in that slot.</summary>
    private PeerEntry? RowRepairContact(int row, int column)
    {
        for (var candidateRow = row; candidateRow < Table.Depth; candidateRow++)
        {
            foreach (var entry in Table.Row(candidateRow))
            {
                if (candidateRow > row || Settings.Geometry.Digit(entry.Id, row) != column)
                {
                    return entry;
                }
            }
        }

        return null;
    }

    private RingNodeState Forget(NodeId id, TimeSpan now, ImmutableArray<RingEffect>.Builder effects, bool declareFailed)
    {
        var known = Leaves.Find(id) ?? Table.Find(id);
        if (!declareFailed && known is null && !Neighbors.Contains(id) && Monitors.IndexOf(id) < 0)
        {
            // Nothing to drop (every join passing through checks its joiner this way): no new version.
            return this;
        }

        var state = this with
        {
            Leaves = Leaves.Remove(id),
            Table = Table.Remove(id),
            Neighbors = Neighbors.Remove(id),
            Monitors = Monitors.Without(id),
        };
        if (!declareFailed)
        {
            return state;
        }

        if (known is { } peer)
        {
            effects.Add(new PeerFailed(NodeHandle.Of(peer)));
        }

        return state with { Tombstones = state.Tombstones.RemoveAll(t => t.Id == id).Add(new Tombstone(id, now + Settings.TombstoneTtl)) };
    }

    /// <summary>Keeps exactly one detector per leaf-set member; a new member starts as if it had just answered.</summary>
    private RingNodeState SyncMonitors(TimeSpan now)
    {
        // Called after every message whose leaf set changed: check without allocating, rebuild only when membership
        // changed. The monitors are kept in member order (built that way, and removals keep it), so one pass in step
        // with the members decides the common case (an RTT refreshed, membership unchanged).
        var distinct = 0;
        var inStep = true;
        foreach (var leaf in Leaves.Clockwise)
        {
            inStep &= distinct < Monitors.Count && Monitors.IdAt(distinct) == leaf.Id;
            distinct++;
        }

        foreach (var leaf in Leaves.CounterClockwise)
        {
            if (!Leaves.IsOnClockwiseSide(leaf.Id))
            {
                inStep &= distinct < Monitors.Count && Monitors.IdAt(distinct) == leaf.Id;
                distinct++;
            }
        }

        if (inStep && distinct == Monitors.Count)
        {
            return this;
        }

        var ids = new NodeId[distinct];
        var detectors = new PhiAccrualDetector[distinct];
        var count = 0;
        foreach (var member in Leaves.Clockwise)
        {
            ids[count] = member.Id;
            detectors[count++] = DetectorOf(member.Id, now);
        }

        foreach (var member in Leaves.CounterClockwise)
        {
            if (!Leaves.IsOnClockwiseSide(member.Id))
            {
                ids[count] = member.Id;
                detectors[count++] = DetectorOf(member.Id, now);
            }
        }

        return this with { Monitors = LeafMonitors.Create(ids, detectors, count) };
    }

    /// <summary>A member's detector: the one it has, or a new one started as if it had just answered.</summary>
    private PhiAccrualDetector DetectorOf(NodeId id, TimeSpan now)
    {
        var index = Monitors.IndexOf(id);
        return index >= 0 ? Monitors.DetectorAt(index) : PhiAccrualDetector.Start(now, Settings.FailureDetector);
    }
}
