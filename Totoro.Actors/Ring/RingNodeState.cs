using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

internal enum RingPhase
{
    Joining,
    Ready,
    Left,
}

/// <summary>Failure detector of one leaf-set member.</summary>
internal readonly record struct LeafMonitor(NodeId Id, PhiAccrualDetector Detector);

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
        Table = RoutingTable.Empty(self.Id, settings.Geometry, settings.CandidatesPerSlot);
        Neighbors = NeighborhoodSet.Empty(settings.NeighborhoodSize);
    }

    public NodeHandle Self { get; }

    public RingSettings Settings { get; }

    public INextHopPlanner Planner { get; }

    public RingPhase Phase { get; private init; }

    public LeafSet Leaves { get; private init; }

    public RoutingTable Table { get; private init; }

    public NeighborhoodSet Neighbors { get; private init; }

    public ImmutableArray<LeafMonitor> Monitors { get; private init; } = [];

    public ImmutableArray<Tombstone> Tombstones { get; private init; } = [];

    public JoinProgress? Join { get; private init; }

    /// <summary>Leaf-set exchanges so far; picks the routing-table entry that carries the next <see cref="LeafSetProbe"/>.</summary>
    public int ExchangeRound { get; private init; }

    /// <summary>Routing-table maintenance rounds so far; rotates which row entry is asked for its row.</summary>
    public int MaintenanceRound { get; private init; }

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
        var leaves = Handles(Leaves.Members());
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

        return new(this with { Phase = RingPhase.Left, Join = null, Monitors = [] }, effects.ToImmutable());
    }

    public RingStep<RingNodeState> Handle(RingMessage message, TimeSpan now, IRouteApplication application)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(application);
        var effects = ImmutableArray.CreateBuilder<RingEffect>();
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
                LeafSetRequest request => Reply(request.Sender, new LeafSetReply(Self, Handles(Leaves.Members())), effects),
                LeafSetReply reply => HeardFrom(reply.Sender).LearnAll([reply.Sender, .. reply.LeafSet], now),
                RowEntryRequest request => Reply(request.Sender, new RowEntryReply(Self, SlotHandles(request.Row, request.Column)), effects),
                RowEntryReply reply => OnRowEntryReply(reply, now, effects),
                RowRequest request => Reply(request.Sender, new RowReply(Self, request.Row, RowHandles(request.Row)), effects),
                RowReply reply => OnRowReply(reply, now, effects),
                TableMaintenanceTick => OnTableMaintenanceTick(effects),
                LeaveNotice notice => Forget(notice.Sender.Id, now, effects, declareFailed: true).LearnAll(notice.LeafSet, now),
                HeartbeatTick => OnHeartbeatTick(now, effects),
                JoinRetryTick => OnJoinRetryTick(effects),
                LeafSetExchangeTick => OnLeafSetExchangeTick(effects),
                DeliveryFailed failed => OnDeliveryFailed(failed, now, effects),
                _ => throw new ArgumentException($"Not a ring message: {message.GetType().Name}", nameof(message)),
            };
        // Monitors follow the leaf set: resynchronise only when the leaf set, the monitors or the phase changed.
        var unchanged = ReferenceEquals(next.Leaves, Leaves) && next.Monitors == Monitors && next.Phase == Phase;
        return new(next.Phase == RingPhase.Ready && !unchanged ? next.SyncMonitors(now) : next, effects.ToImmutable());
    }

    /// <summary>Approximate heap bytes of this state (shared rows counted in full), for the memory budget.</summary>
    public long ApproximateBytes()
    {
        const int objectHeader = 16;
        const int stateFields = 24 + (8 * 9) + 8 + 8;
        const int arrayHeader = 24;
        var monitorBytes = Monitors.IsDefaultOrEmpty ? 0 : arrayHeader + (Monitors.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<LeafMonitor>());
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

    /// <summary>
    /// Sends the current attempt's join and arms its retry timer. Attempt k waits <see cref="RingSettings.JoinRetryInterval"/>
    /// × 2^min(k, 4): a join that is only slow (its path's uplinks are queueing) gets the time to finish instead of
    /// being restarted into the same queues, which would discard its replies and add load.
    /// </summary>
    private ImmutableArray<RingEffect> JoinAttemptEffects()
    {
        var join = Join ?? throw new InvalidOperationException("Not joining.");
        return
        [
            new Send(join.Bootstrap, new RouteMessage(Self, Self.Id, new JoinPayload(Self, join.Attempt), 1)),
            new ScheduleTimer(JoinRetryTick.Instance, JoinRetryDelay(Settings, join.Attempt)),
        ];
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> is retried (exponential backoff, capped at 16×).</summary>
    internal static TimeSpan JoinRetryDelay(RingSettings settings, int attempt) => settings.JoinRetryInterval * (1 << Math.Clamp(attempt, 0, 4));

    private RingNodeState OnRoute(RouteMessage message, TimeSpan now, IRouteApplication application, ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Ready)
        {
            effects.Add(new RouteAbandoned(message.Key, message.Payload, message.Hops, "node is not ready"));
            return this;
        }

        if (message.Payload is JoinPayload join)
        {
            return OnJoinRoute(message, join, now, effects);
        }

        if (message.Payload is LeafSetProbe probe)
        {
            return OnLeafSetProbe(message, probe, now, effects);
        }

        var decision = Decide(message.Key, message.Converging);
        var context = new RouteContext(message.Key, message.Payload, message.Sender, message.Hops, []);
        if (decision.IsDeliverHere)
        {
            effects.Add(new Deliver(context));
            return this;
        }

        if (message.Hops >= Settings.MaxHops)
        {
            effects.Add(new RouteAbandoned(message.Key, message.Payload, message.Hops, "hop limit reached"));
            return this;
        }

        var next = Planner.Choose(message.Key, decision);
        var converging = ConvergingAfter(message.Converging, decision, next, message.Key);
        switch (application.Forward(context, NodeHandle.Of(next)))
        {
            case ForwardVerdict.ReplaceVerdict replace:
                effects.Add(new Send(next.Address, message with { Sender = Self, Payload = replace.Payload, Hops = message.Hops + 1, Converging = converging }));
                break;
            case ForwardVerdict.ContinueVerdict:
                effects.Add(new Send(next.Address, message with { Sender = Self, Hops = message.Hops + 1, Converging = converging }));
                break;
            default:
                break;
        }

        return this;
    }

    private RingNodeState OnJoinRoute(RouteMessage message, JoinPayload join, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (join.Joiner.Id == Self.Id)
        {
            effects.Add(new RouteAbandoned(message.Key, message.Payload, message.Hops, "joiner id is already in the ring"));
            return this;
        }

        // A joiner we still know is a new incarnation of a node that left or crashed: never route its join to it.
        var state = Forget(join.Joiner.Id, now, effects, declareFailed: false);
        var decision = state.Decide(message.Key, message.Converging);
        var isFinal = decision.IsDeliverHere || message.Hops >= Settings.MaxHops;
        // Pastry: the i-th node on the path shares i digits with the joiner and hands over row i. Each node sends the
        // rows after the previous hop's shared prefix up to its own, so every row arrives once, from the first node
        // that can give it; the bootstrap (hop 1) sends rows 0..its prefix. Replies stay small on constrained uplinks.
        var shared = Settings.Geometry.SharedPrefixLength(Self.Id, join.Joiner.Id);
        var firstRow = message.Hops <= 1 ? 0 : Settings.Geometry.SharedPrefixLength(message.Sender.Id, join.Joiner.Id) + 1;
        var rows = ImmutableArray.CreateBuilder<NodeHandle>();
        rows.Add(Self);
        for (var row = firstRow; row <= shared && row < state.Table.Depth; row++)
        {
            foreach (var entry in state.Table.Row(row))
            {
                rows.Add(NodeHandle.Of(entry));
            }
        }

        effects.Add(new Send(join.Joiner.Address, new JoinReply(
            Self,
            join.Attempt,
            message.Hops - 1,
            rows.ToImmutable(),
            message.Hops == 1 ? Handles(state.Neighbors.Entries.ToArray()) : [],
            isFinal ? Handles(state.Leaves.Members()) : [],
            isFinal ? message.Hops : null)));
        if (!isFinal)
        {
            var next = state.Planner.Choose(message.Key, decision);
            effects.Add(new Send(next.Address, message with { Sender = Self, Hops = message.Hops + 1, Converging = ConvergingAfter(message.Converging, decision, next, message.Key) }));
        }

        return state;
    }

    private RingNodeState OnJoinReply(JoinReply reply, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Joining || Join is not { } join || reply.Attempt != join.Attempt || reply.HopIndex is < 0 or >= 64)
        {
            return this;
        }

        var state = LearnAll([reply.Sender, .. reply.Rows, .. reply.Neighborhood, .. reply.LeafSet], now) with
        {
            Join = join with
            {
                ReceivedHops = join.ReceivedHops | (1UL << reply.HopIndex),
                PathLength = reply.PathLength ?? join.PathLength,
                Contacts = reply.HopIndex == 0 ? [reply.Sender, .. reply.Neighborhood] : join.Contacts,
            },
        };
        if (!state.Join!.IsComplete)
        {
            return state;
        }

        effects.Add(new CancelTimer(JoinRetryTick.Instance));
        foreach (var peer in state.AnnounceTargets())
        {
            effects.Add(new Send(peer.Address, new Announce(Self, now)));
        }

        effects.AddRange(MaintenanceTimers());
        effects.Add(new JoinCompleted(Self));
        return state with { Phase = RingPhase.Ready, Join = null };
    }

    private RingNodeState OnJoinRetryTick(ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Joining || Join is not { } join)
        {
            return this;
        }

        var state = this with { Join = join with { Attempt = join.Attempt + 1, ReceivedHops = 0, PathLength = null } };
        effects.AddRange(state.JoinAttemptEffects());
        return state;
    }

    /// <summary>
    /// Only a node that takes the announcer into its leaf set answers, with its leaf set (that is what makes
    /// concurrent joins converge); the others just learn the announcer. Routing-table RTTs are measured lazily
    /// (heartbeats, row repair), not with a round trip per announcement.
    /// </summary>
    private RingNodeState OnAnnounce(Announce announce, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var state = HeardFrom(announce.Sender).LearnUnmeasured(announce.Sender, now);
        if (state.Leaves.Contains(announce.Sender.Id))
        {
            effects.Add(new Send(announce.Sender.Address, new AnnounceReply(Self, announce.SentAt, now, Handles(state.Leaves.Members()))));
        }

        return state;
    }

    /// <summary>
    /// Learns the replier's leaf set. A leaf it brings that this node did not know joined concurrently with it: neither
    /// was in the leaf set handed over at join, so this node announces itself to it (else only the periodic leaf-set
    /// exchange would introduce the two).
    /// </summary>
    private RingNodeState OnAnnounceReply(AnnounceReply reply, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var measured = HeardFrom(reply.Sender).LearnMeasured(reply.Sender, now - reply.EchoSentAt, now);
        var state = measured.LearnAll(reply.LeafSet, now);
        if (!ReferenceEquals(state.Leaves, measured.Leaves))
        {
            foreach (var leaf in state.Leaves.Members())
            {
                if (!measured.Leaves.Contains(leaf.Id))
                {
                    effects.Add(new Send(leaf.Address, new Announce(Self, now)));
                }
            }
        }

        return state;
    }

    /// <summary>
    /// Whom a node that finished joining tells about itself: its leaf set and neighbourhood set, the bootstrap and the
    /// bootstrap's neighbourhood set (<see cref="JoinProgress.Contacts"/>), and the entries of its deepest
    /// <see cref="RingSettings.AnnounceRows"/> routing-table rows. The deep rows hold the nodes sharing the longest
    /// prefixes with it, whose own tables are sparse there and need the newcomer. The contacts have random prefixes, so
    /// the newcomer competes for a slot of their shallow rows: without that, shallow rows are only ever copied from
    /// join path to joiner, and the nodes that filled them while the ring was small stay on most join paths (at 10⁵,
    /// the first 64 nodes were the second hop of 63 % of all joins, and at 10⁶ their uplinks could not keep up).
    /// Announcing to every entry of every row (Pastry's "every node in its state") would cost one message per entry.
    /// </summary>
    private IEnumerable<PeerEntry> AnnounceTargets()
    {
        var seen = new HashSet<NodeId>();
        var contacts = Join?.Contacts ?? [];
        foreach (var entry in Leaves.Members().Concat(Neighbors.Entries.ToArray()).Concat(contacts.Select(handle => handle.Unmeasured())))
        {
            if (seen.Add(entry.Id))
            {
                yield return entry;
            }
        }

        for (var row = Math.Max(0, Table.Depth - Settings.AnnounceRows); row < Table.Depth; row++)
        {
            foreach (var entry in Table.Row(row).ToArray())
            {
                if (seen.Add(entry.Id))
                {
                    yield return entry;
                }
            }
        }
    }

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

        var state = this with { Tombstones = Tombstones.RemoveAll(t => t.Until <= now) };
        foreach (var monitor in Monitors)
        {
            if (!monitor.Detector.IsAvailable(now, Settings.FailureDetector))
            {
                state = state.DeclareDead(monitor.Id, now, effects);
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

    private RingNodeState OnLeafSetProbe(RouteMessage message, LeafSetProbe probe, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (probe.Origin.Id == Self.Id)
        {
            return this;
        }

        // The probe proves its origin alive, like any message straight from it.
        var state = HeardFrom(probe.Origin).LearnUnmeasured(probe.Origin, now);
        var decision = state.Decide(message.Key, message.Converging);
        if (decision.IsDeliverHere || message.Hops >= Settings.MaxHops)
        {
            effects.Add(new Send(probe.Origin.Address, new LeafSetReply(Self, Handles(state.Leaves.Members()))));
        }
        else
        {
            var next = state.Planner.Choose(message.Key, decision);
            effects.Add(new Send(next.Address, message with { Sender = Self, Hops = message.Hops + 1, Converging = ConvergingAfter(message.Converging, decision, next, message.Key) }));
        }

        return state;
    }

    private RingNodeState OnDeliveryFailed(DeliveryFailed failed, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var state = FindByAddress(failed.To) is { } peer ? DeclareDead(peer.Id, now, effects) : this;
        if (failed.Message is not RouteMessage route || state.Phase != RingPhase.Ready)
        {
            return state;
        }

        if (route.Payload is JoinPayload join)
        {
            return state.OnJoinRoute(route with { Hops = route.Hops - 1 }, join, now, effects);
        }

        if (route.Payload is LeafSetProbe)
        {
            return state;
        }

        // Re-route the message as it left this node: the application already saw it here, so no second upcall.
        // The flag as it left is at least as strict as the one it arrived with, so keeping it is safe.
        var decision = state.Decide(route.Key, route.Converging);
        if (decision.IsDeliverHere)
        {
            effects.Add(new Deliver(new RouteContext(route.Key, route.Payload, null, route.Hops - 1, [])));
        }
        else
        {
            var next = state.Planner.Choose(route.Key, decision);
            effects.Add(new Send(next.Address, route with { Converging = ConvergingAfter(route.Converging, decision, next, route.Key) }));
        }

        return state;
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
        var state = this with
        {
            Leaves = Leaves.Remove(id),
            Table = Table.Remove(id),
            Neighbors = Neighbors.Remove(id),
            Monitors = Monitors.RemoveAll(m => m.Id == id),
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

    private bool ConvergingAfter(bool converging, RouteDecision decision, PeerEntry next, NodeId key) =>
        RouteDecider.Next(converging, decision, Settings.Geometry, Self.Id, next.Id, key);

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
    private RingNodeState LearnAll(ImmutableArray<NodeHandle> peers, TimeSpan now)
    {
        var leaves = Leaves;
        var learned = new PeerEntry[peers.Length];
        var count = 0;
        foreach (var peer in peers)
        {
            if (peer.Id != Self.Id && !IsTombstoned(peer.Id, now))
            {
                var entry = peer.Unmeasured();
                leaves = leaves.Insert(entry);
                learned[count++] = entry;
            }
        }

        var table = Table.InsertMany(learned.AsSpan(0, count));
        return ReferenceEquals(leaves, Leaves) && ReferenceEquals(table, Table) ? this : this with { Leaves = leaves, Table = table };
    }

    private RingNodeState LearnUnmeasured(NodeHandle peer, TimeSpan now)
    {
        if (peer.Id == Self.Id || IsTombstoned(peer.Id, now))
        {
            return this;
        }

        var leaves = Leaves.Insert(peer.Unmeasured());
        var table = Table.Insert(peer.Unmeasured());
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

        var index = IndexOfMonitor(peer.Id);
        var monitors = index < 0
            ? Monitors
            : Monitors.SetItem(index, Monitors[index] with { Detector = Monitors[index].Detector.Heartbeat(now, Settings.FailureDetector) });
        var leaves = Leaves.Insert(entry);
        var table = Table.Insert(entry);
        var neighbors = Neighbors.Insert(entry);
        return index < 0 && ReferenceEquals(leaves, Leaves) && ReferenceEquals(table, Table) && ReferenceEquals(neighbors, Neighbors)
            ? this
            : this with { Leaves = leaves, Table = table, Neighbors = neighbors, Monitors = monitors };
    }

    private static bool IsJitter(uint stored, uint sample) => (ulong)Math.Abs((long)sample - stored) * 8 <= stored;

    /// <summary>Keeps exactly one detector per leaf-set member; a new member starts as if it had just answered.</summary>
    private RingNodeState SyncMonitors(TimeSpan now)
    {
        // Called after every message: check without allocating, rebuild only when membership changed.
        var distinct = 0;
        var allMonitored = true;
        foreach (var leaf in Leaves.Clockwise)
        {
            distinct++;
            allMonitored &= IndexOfMonitor(leaf.Id) >= 0;
        }

        foreach (var leaf in Leaves.CounterClockwise)
        {
            if (!Leaves.IsOnClockwiseSide(leaf.Id))
            {
                distinct++;
                allMonitored &= IndexOfMonitor(leaf.Id) >= 0;
            }
        }

        if (allMonitored && distinct == Monitors.Length)
        {
            return this;
        }

        var members = Leaves.Members().ToArray();

        var monitors = ImmutableArray.CreateBuilder<LeafMonitor>(members.Length);
        foreach (var member in members)
        {
            var index = IndexOfMonitor(member.Id);
            monitors.Add(index >= 0 ? Monitors[index] : new LeafMonitor(member.Id, PhiAccrualDetector.Start(now, Settings.FailureDetector)));
        }

        return this with { Monitors = monitors.MoveToImmutable() };
    }

    private int IndexOfMonitor(NodeId id)
    {
        for (var index = 0; index < Monitors.Length; index++)
        {
            if (Monitors[index].Id == id)
            {
                return index;
            }
        }

        return -1;
    }

    private PeerEntry? FindByAddress(NodeAddress address) =>
        KnownPeers().Select(peer => (PeerEntry?)peer).FirstOrDefault(peer => peer!.Value.Address == address);

    private ImmutableArray<NodeHandle> SlotHandles(int row, int column) =>
        row >= 0 && row < Settings.Geometry.DigitCount && column >= 0 && column < Settings.Geometry.Columns
            ? Handles(Table.Slot(row, column).ToArray())
            : [];

    private static ImmutableArray<NodeHandle> Handles(IEnumerable<PeerEntry> entries) => [.. entries.Select(NodeHandle.Of)];
}
