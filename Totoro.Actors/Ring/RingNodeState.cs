using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

internal enum RingPhase
{
    Joining,
    Ready,
    Left,
}

/// <summary>A node recently declared dead or gone; not re-learned from stale hand-overs until it announces itself again.</summary>
internal readonly record struct Tombstone(NodeId Id, TimeSpan Until);

/// <summary>Joiner-side bookkeeping: which path nodes have answered this attempt, and how long the path is.</summary>
internal sealed record JoinProgress(NodeAddress Bootstrap, int Attempt, ulong ReceivedHops, int? PathLength)
{
    public bool IsComplete => PathLength is { } length && ReceivedHops == (length >= 64 ? ulong.MaxValue : (1UL << length) - 1);

    /// <summary>
    /// The bootstrap and its neighbourhood set (from the first path node's reply): Pastry's initial neighbourhood of the
    /// joiner. Unmeasured, so the joiner's own <see cref="NeighborhoodSet"/> cannot hold them yet, but the joiner
    /// announces itself to them too (see <see cref="RingNodeState"/>'s AnnounceTargets).
    /// </summary>
    public ImmutableArray<NodeHandle> Contacts { get; init; } = [];
}

/// <summary>
/// One node's view of one ring, and the Pastry protocol over it. Immutable: every handler returns the new state
/// and the effects (sends, timers, deliveries) for the shell to perform. Time is always a parameter.
/// </summary>
internal sealed partial record RingNodeState
{
    private RingNodeState(NodeHandle self, RingSettings settings, INextHopPlanner planner, RingPhase phase)
    {
        Self = self;
        Settings = settings;
        Planner = planner;
        Phase = phase;
        Leaves = LeafSet.Empty(self.Id, settings.LeafSetSize);
        Table = RoutingTable.Empty(self.Id, settings.Geometry, settings.CandidatesPerSlot, settings.SparseExtraCandidates);
        Neighbors = NeighborhoodSet.Empty(settings.NeighborhoodSize);
    }

    /// <summary>Largest effect builder kept for reuse; a rare bigger one (a leave to many leaves) is let go.</summary>
    private const int ScratchCapacity = 64;

    [ThreadStatic]
    private static ImmutableArray<RingEffect>.Builder? t_effects;

    public NodeHandle Self { get; }

    public RingSettings Settings { get; }

    public INextHopPlanner Planner { get; }

    public RingPhase Phase { get; private init; }

    public LeafSet Leaves { get; private init; }

    public RoutingTable Table { get; private init; }

    public NeighborhoodSet Neighbors { get; private init; }

    public LeafMonitors Monitors { get; private init; } = LeafMonitors.None;

    public ImmutableArray<Tombstone> Tombstones { get; private init; } = [];

    public JoinProgress? Join { get; private init; }

    /// <summary>Leaf-set exchanges so far; picks the routing-table entry that carries the next <see cref="LeafSetProbe"/>.</summary>
    public int ExchangeRound { get; private init; }

    /// <summary>Routing-table maintenance rounds so far; rotates which row entry is asked for its row.</summary>
    public int MaintenanceRound { get; private init; }

    /// <summary>Proximity-refresh probes left in this maintenance period (<see cref="RingSettings.ProximityProbes"/> at each tick).</summary>
    public int ProximityBudget { get; private init; }

    /// <summary>The first node of a ring: ready at once, alone.</summary>
    public static RingStep<RingNodeState> CreateFirst(NodeHandle self, RingSettings settings, INextHopPlanner planner)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var state = new RingNodeState(self, settings.Validated(), planner, RingPhase.Ready);
        return new(state, [.. state.MaintenanceTimers(), new JoinCompleted(self)]);
    }

    /// <summary>A node joining through any known node <paramref name="bootstrap"/>: routes a join toward its own id.</summary>
    public static RingStep<RingNodeState> CreateJoining(NodeHandle self, NodeAddress bootstrap, RingSettings settings, INextHopPlanner planner)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var state = new RingNodeState(self, settings.Validated(), planner, RingPhase.Joining)
        {
            Join = new JoinProgress(bootstrap, 0, 0, null),
        };
        return new(state, state.JoinAttemptEffects());
    }

    /// <summary>The routing decision for <paramref name="key"/>; <paramref name="converging"/>: the route has left prefix routing (see <see cref="RouteDecider"/>).</summary>
    public RouteDecision Decide(NodeId key, bool converging = false) => RouteDecider.Decide(Self.Id, Leaves, Table, Neighbors, key, converging);

    /// <summary>Every distinct node this node knows (leaf set, routing table, neighbourhood).</summary>
    public IEnumerable<PeerEntry> KnownPeers()
    {
        var seen = new HashSet<NodeId>();
        foreach (var entry in Leaves.Members().Concat(Table.Entries()).Concat(Neighbors.Entries.ToArray()))
        {
            if (seen.Add(entry.Id))
            {
                yield return entry;
            }
        }
    }

    /// <summary>Starts routing <paramref name="payload"/> toward <paramref name="key"/> from this node (no forward upcall at the origin).</summary>
    public RingStep<RingNodeState> Route(NodeId key, object payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (Phase != RingPhase.Ready)
        {
            return new(this, [new RouteAbandoned(key, payload, 0, "node is not ready")]);
        }

        var decision = Decide(key);
        if (decision.IsDeliverHere)
        {
            return new(this, [new Deliver(new RouteContext(key, payload, null, 0, []))]);
        }

        var next = Planner.Choose(key, decision);
        return new(this, [new Send(next.Address, new RouteMessage(Self, key, payload, 1) { Converging = ConvergingAfter(false, decision, next, key) })]);
    }

    /// <summary>Graceful leave: hand the leaf set to every leaf so each can repair at once, then stop.</summary>
    public RingStep<RingNodeState> Leave()
    {
        var effects = ImmutableArray.CreateBuilder<RingEffect>();
        var leaves = Leaves.ToView();
        foreach (var leaf in leaves)
        {
            effects.Add(new Send(leaf.Address, new LeaveNotice(Self, leaves)));
        }

        if (Phase == RingPhase.Joining)
        {
            effects.Add(new CancelTimer(JoinRetryTick.Instance));
        }
        else
        {
            effects.Add(new CancelTimer(HeartbeatTick.Instance));
            effects.Add(new CancelTimer(LeafSetExchangeTick.Instance));
            effects.Add(new CancelTimer(TableMaintenanceTick.Instance));
        }

        return new(this with { Phase = RingPhase.Left, Join = null, Monitors = LeafMonitors.None }, effects.ToImmutable());
    }

    public RingStep<RingNodeState> Handle(RingMessage message, TimeSpan now, IRouteApplication application)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(application);
        // The builder is scratch space, reused across messages on this thread (a nested Handle finds none and makes
        // its own): one builder and array per message was ~10 % of the simulator's allocation.
        var effects = t_effects ?? ImmutableArray.CreateBuilder<RingEffect>();
        t_effects = null;
        var next = Phase == RingPhase.Left
            ? this
            : message switch
            {
                RouteMessage route => OnRoute(route, now, application, effects),
                JoinReply reply => OnJoinReply(reply, now, effects),
                Announce announce => OnAnnounce(announce, now, effects),
                AnnounceReply reply => OnAnnounceReply(reply, now, effects),
                Probe probe => OnProbe(probe, now, effects),
                ProbeReply reply => HeardFrom(reply.Sender).LearnMeasured(reply.Sender, now - reply.EchoSentAt, now),
                LeafSetRequest request => Reply(request.Sender, new LeafSetReply(Self, Leaves.ToView()), effects),
                LeafSetReply reply => HeardFrom(reply.Sender).LearnAll((ReadOnlySpan<NodeHandle>)[reply.Sender, .. reply.LeafSet], now),
                RowEntryRequest request => Reply(request.Sender, new RowEntryReply(Self, SlotHandles(request.Row, request.Column)), effects),
                RowEntryReply reply => OnRowEntryReply(reply, now, effects),
                RowRequest request => Reply(request.Sender, new RowReply(Self, request.Row, RowHandles(request.Row)), effects),
                RowReply reply => OnRowReply(reply, now, effects),
                TableMaintenanceTick => OnTableMaintenanceTick(now, effects),
                LeaveNotice notice => Forget(notice.Sender.Id, now, effects, declareFailed: true).LearnAll(notice.LeafSet, now),
                HeartbeatTick => OnHeartbeatTick(now, effects),
                JoinRetryTick => OnJoinRetryTick(effects),
                LeafSetExchangeTick => OnLeafSetExchangeTick(effects),
                DeliveryFailed failed => OnDeliveryFailed(failed, now, effects),
                _ => throw new ArgumentException($"Not a ring message: {message.GetType().Name}", nameof(message)),
            };
        // Monitors follow the leaf set: resynchronise only when the leaf set, the monitors or the phase changed.
        var unchanged = ReferenceEquals(next.Leaves, Leaves) && next.Monitors == Monitors && next.Phase == Phase;
        var result = effects.ToImmutable();
        if (effects.Capacity <= ScratchCapacity)
        {
            effects.Clear();
            t_effects = effects;
        }

        return new(next.Phase == RingPhase.Ready && !unchanged ? next.SyncMonitors(now) : next, result);
    }

    /// <summary>Approximate heap bytes of this state (shared rows counted in full), for the memory budget.</summary>
    public long ApproximateBytes()
    {
        const int objectHeader = 16;
        const int stateFields = 24 + (8 * 9) + 8 + 8;
        const int arrayHeader = 24;
        var monitorBytes = Monitors.ApproximateBytes();
        var tombstoneBytes = Tombstones.IsDefaultOrEmpty ? 0 : arrayHeader + (Tombstones.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Tombstone>());
        return objectHeader + stateFields + Leaves.ApproximateBytes() + Table.ApproximateBytes() + Neighbors.ApproximateBytes() +
               monitorBytes + tombstoneBytes;
    }

    private ImmutableArray<RingEffect> MaintenanceTimers() => Settings.TableMaintenanceInterval > TimeSpan.Zero
        ?
        [
            new ScheduleTimer(HeartbeatTick.Instance, Settings.HeartbeatInterval),
            new ScheduleTimer(LeafSetExchangeTick.Instance, Settings.LeafSetExchangeInterval),
            new ScheduleTimer(TableMaintenanceTick.Instance, Settings.TableMaintenanceInterval),
        ]
        :
        [
            new ScheduleTimer(HeartbeatTick.Instance, Settings.HeartbeatInterval),
            new ScheduleTimer(LeafSetExchangeTick.Instance, Settings.LeafSetExchangeInterval),
        ];
}
