using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>Parameters of one <c>totoro sim ring</c> run.</summary>
internal sealed record RingSimOptions(int Nodes, int Zones, int BitsPerDigit, int Seed, int CandidatesPerSlot, int Lookups, double ChurnPercent)
{
    private readonly TimeSpan? _prepareWindow;

    public int GatewaysPerZone { get; init; } = 2;

    /// <summary>The simulated network (<c>--network FILE</c>, HOCON <c>totoro.sim.network</c>).</summary>
    public NetworkSettings Network { get; init; } = NetworkSettings.Default;

    /// <summary>How a node learns its zone: where it was placed, or the landmark with the lowest measured RTT.</summary>
    public ZoneAssignment ZoneAssignment { get; init; } = ZoneAssignment.Geographic;

    /// <summary>
    /// Simulation ring settings: slower heartbeats than the product default (30 s instead of 1 s) so that 10⁶ nodes'
    /// heartbeats do not dominate the build; the failure detector is scaled to match.
    /// </summary>
    public RingSettings RingSettings => RingSettings.Default with
    {
        Geometry = new IdGeometry(BitsPerDigit),
        CandidatesPerSlot = CandidatesPerSlot,
        SparseExtraCandidates = SparseExtraCandidates,
        AnnounceRows = AnnounceRows,
        LeafSetSize = LeafSetSize,
        TableMaintenanceInterval = TableMaintenanceInterval,
        ProximityProbes = ProximityProbes,
        ProximityRefreshEvery = ProximityRefreshEvery,
        HeartbeatInterval = TimeSpan.FromSeconds(30),
        LeafSetExchangeInterval = TimeSpan.FromSeconds(60),
        JoinRetryInterval = TimeSpan.FromSeconds(30),
        TombstoneTtl = TimeSpan.FromMinutes(30),
        FailureDetector = new PhiAccrualSettings(8.0, 8, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)),
    };

    /// <summary>
    /// Joins per virtual second (<c>--join-rate</c>); by default N/10 (at most 10⁵), so the build takes ~10 s of virtual
    /// time after the growth-limited ramp and maintenance traffic during the build stays small.
    /// </summary>
    public double? JoinRatePerSecond { get; init; }

    /// <summary>
    /// How long the build waits, in virtual time after the last node started, for the last joins to complete
    /// (<c>--build-timeout</c>); joins still unfinished then are reported, and those nodes are not members.
    /// </summary>
    public TimeSpan BuildTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Virtual time between the end of the build and the lookups (<c>--settle</c>): leaf-set exchanges and heartbeats run.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Routing-table maintenance period in the simulation (<c>--table-maintenance</c>, <c>totoro.ring.table-maintenance-interval</c>;
    /// zero = off). Shorter than the product default so that one period after the build costs less than one heartbeat round.
    /// </summary>
    public TimeSpan TableMaintenanceInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Maintenance periods run after the build, before anything is measured (<c>--maintenance-rounds</c>): each live node's
    /// maintenance timer fires once per period, so after one period every node has refreshed its rows from a complete ring.
    /// </summary>
    public int MaintenanceRounds { get; init; } = 1;

    /// <summary>Proximity-refresh probes per maintenance period (<c>--proximity-probes</c>, <c>totoro.ring.proximity-probes</c>; 0 = off).</summary>
    public int ProximityProbes { get; init; } = RingSettings.Default.ProximityProbes;

    /// <summary>The proximity refresh runs every this-many maintenance periods (<c>--proximity-every</c>, <c>totoro.ring.proximity-refresh-every</c>).</summary>
    public int ProximityRefreshEvery { get; init; } = RingSettings.Default.ProximityRefreshEvery;

    /// <summary>Extra candidates per slot in the sparse rows (<c>--sparse-extra</c>, <c>totoro.ring.sparse-extra-candidates</c>; 0 = off).</summary>
    public int SparseExtraCandidates { get; init; } = RingSettings.Default.SparseExtraCandidates;

    /// <summary>Leaf-set size L (<c>--leaf-set</c>, <c>totoro.ring.leaf-set-size</c>; even, ≥ 2).</summary>
    public int LeafSetSize { get; init; } = RingSettings.Default.LeafSetSize;

    /// <summary>Routing-table rows a joined node announces itself to (<c>--announce-rows</c>, <c>totoro.ring.announce-rows</c>).</summary>
    public int AnnounceRows { get; init; } = RingSettings.Default.AnnounceRows;

    /// <summary>The ring grows by at most this fraction of its started nodes per virtual second during the build (<c>--growth</c>).</summary>
    public double GrowthPerSecond { get; init; } = 1.0;

    /// <summary>
    /// Virtual-time window of messages whose ring steps are computed ahead on the other cores (<c>--prepare-window</c>;
    /// zero = off; <see cref="DeterministicWorld.PrepareWindow"/>). The default is half the network's one-way latency
    /// floor: nothing a window sends arrives within the next one. Results do not depend on it, only the wall time.
    /// </summary>
    public TimeSpan PrepareWindow
    {
        get => _prepareWindow ?? DefaultPrepareWindow(Network);
        init => _prepareWindow = value;
    }

    public static TimeSpan DefaultPrepareWindow(NetworkSettings network) => network.BaseLatency / 2;

    public double JoinRate => JoinRatePerSecond ?? Math.Clamp(Nodes / 10.0, 20, 100_000);

    public RingSimOptions Validated()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Nodes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(Zones, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(Lookups);
        if (ChurnPercent is < 0 or >= 100 || double.IsNaN(ChurnPercent))
        {
            throw new ArgumentOutOfRangeException(nameof(ChurnPercent), ChurnPercent, "--churn must be in [0, 100)");
        }

        if (Zones > 1 && !ZoneKeys.ArePrefixesDistinct(Enumerable.Range(0, Zones)))
        {
            throw new ArgumentOutOfRangeException(nameof(Zones), Zones, "zone prefixes collide for this zone count");
        }

        if (JoinRatePerSecond is { } rate && !(rate >= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(JoinRatePerSecond), rate, "--join-rate must be ≥ 1 join per virtual second");
        }

        if (!(GrowthPerSecond > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(GrowthPerSecond), GrowthPerSecond, "--growth must be positive");
        }

        if (TableMaintenanceInterval < TimeSpan.Zero || MaintenanceRounds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TableMaintenanceInterval), "--table-maintenance and --maintenance-rounds must be ≥ 0");
        }

        if (BuildTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BuildTimeout), BuildTimeout, "--build-timeout must be positive");
        }

        if (Network.Geometry == MapGeometry.Earth && Zones > Network.ZoneSites.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(Zones), Zones, $"--zones {Zones}, but totoro.sim.network.zone-sites lists only {Network.ZoneSites.Length} sites");
        }

        _ = Network.Validated();
        if (PrepareWindow < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PrepareWindow), PrepareWindow, "--prepare-window must be ≥ 0");
        }

        if (Settle < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Settle), Settle, "--settle must be ≥ 0 seconds");
        }

        _ = RingSettings.Validated();
        return this;
    }
}

/// <summary>Results of one lookup phase. Latencies are base propagation (no jitter or queueing), in milliseconds.</summary>
internal sealed record LookupReport(
    int Sent,
    int Delivered,
    int Misroutes,
    double MeanHops,
    int P50Hops,
    int P99Hops,
    int MaxHops,
    ImmutableArray<int> HopHistogram,
    double MedianStretch,
    double P90Stretch,
    int LiveNodes)
{
    public StretchBreakdown Stretch { get; init; } = StretchBreakdown.Empty;

    /// <summary>Deliveries to a node that finished joining during the lookups and was then the closest member (not misroutes).</summary>
    public int LateJoinerDeliveries { get; init; }
}

/// <summary>
/// Where the stretch comes from. Lookups are from a random live node to a random key of a random zone, so with Z
/// zones a share (Z−1)/Z crosses zones. A path of h hops costs at least h·base + (direct − base) (every hop pays the
/// base latency, and the distance part obeys the triangle inequality), so <see cref="MedianHopFloor"/> is the
/// stretch that the hop count alone forces; the rest is detour.
/// </summary>
internal sealed record StretchBreakdown(
    double CrossZoneShare,
    double MedianCrossZone,
    double MedianIntraZone,
    double MedianHopFloor,
    double MedianCrossZoneHopFloor,
    double MedianDirectMs,
    double MedianPathMs)
{
    public static StretchBreakdown Empty { get; } = new(0, 0, 0, 0, 0, 0, 0);
}

/// <summary>Per-node state measured on a sample of nodes.</summary>
internal sealed record StateReport(int Sampled, double MeanBytes, double MeanEntries, double MeanLeafSetSize, double MeanTableEntries);

/// <summary>
/// The ring simulator behind <c>totoro sim ring</c>: N ring nodes, each a <see cref="RingMembershipActor"/> running the
/// real protocol handlers, on one actor system of a deterministic world. Links are a <see cref="SimulatedRingNetwork"/>
/// timed by the <see cref="NetworkModel"/>. The overlay is built only through the join protocol: nodes start in
/// virtual time at <see cref="RingSimOptions.JoinRate"/>, each bootstrapping from the nearest of a few random live
/// nodes of its zone. Phases are separate methods so the caller can time each in wall-clock terms.
/// Single-threaded: everything runs on the world's thread.
/// </summary>
internal sealed class RingSimulation
{
    private const int BootstrapSample = 8;
    private readonly RingSimOptions _options;
    private readonly RingSettings _settings;
    private readonly DeterministicWorld _world;
    private readonly ActorSystem _system;
    private readonly NetworkModel _network;
    private readonly SimulatedRingNetwork _links;
    private readonly RingSimRecorder _recorder;
    private readonly NodeId[] _ids;
    private readonly int[] _zoneOf;
    private readonly bool[] _isGateway;
    private readonly IActorRef?[] _actors;
    private readonly Random _random;
    private readonly List<int>[] _startedByZone;
    private readonly List<int> _startedGateways = [];
    private readonly ImmutableArray<IActorRef> _subscribers;
    private readonly int[] _joinOrder;

    public RingSimulation(RingSimOptions options)
    {
        _options = options.Validated();
        _settings = options.RingSettings;
        _world = new DeterministicWorld(options.Seed) { PrepareWindow = _options.PrepareWindow };
        _system = ActorSystem.Create("sim", new ActorSystemSettings { World = _world });
        _random = _world.Random;
        Topology = TopologyGenerator.Generate(options.Zones, options.Nodes, options.Network, options.ZoneAssignment, new Random(options.Seed));
        _network = new NetworkModel(Topology, options.Network, options.Seed);
        _links = new SimulatedRingNetwork(_network, _system.Scheduler, options.Nodes);
        _recorder = new RingSimRecorder(_network, options.Nodes, options.Lookups);
        _ids = new NodeId[options.Nodes];
        Span<byte> bytes = stackalloc byte[16];
        for (var node = 0; node < _ids.Length; node++)
        {
            _random.NextBytes(bytes);
            _ids[node] = new NodeId(new UInt128(BitConverter.ToUInt64(bytes), BitConverter.ToUInt64(bytes[8..])));
        }

        _zoneOf = [.. Topology.Nodes.Select(node => options.Zones == 1 ? 0 : node.Zone)];
        _isGateway = new bool[options.Nodes];
        if (options.Zones > 1)
        {
            for (var zone = 0; zone < options.Zones; zone++)
            {
                var members = Enumerable.Range(0, options.Nodes).Where(node => _zoneOf[node] == zone).ToList();
                var chosen = ZoneKeys.SelectGateways(members.Select(node => _ids[node]), zone, options.GatewaysPerZone).ToHashSet();
                members.Where(node => chosen.Contains(_ids[node])).ToList().ForEach(node => _isGateway[node] = true);
            }
        }

        ExpectedMemberships = options.Nodes + _isGateway.Count(gateway => gateway);

        // Gateways start first, so each zone ring and the global ring exist before ordinary members arrive.
        _joinOrder = [.. Enumerable.Range(0, options.Nodes).OrderBy(node => _isGateway[node] ? 0 : 1).ThenBy(node => node)];
        _actors = new IActorRef?[options.Nodes];
        _startedByZone = [.. Enumerable.Range(0, options.Zones).Select(_ => new List<int>())];
        _subscribers = [_system.ActorOf(Props.Create(() => new RingSimObserver(_recorder)), "observer")];
    }

    public NetworkTopology Topology { get; }

    public RingSimOptions Options => _options;

    /// <summary>The simulation's actor system, world and network, for upper layers built over the ring (sim forest).</summary>
    public ActorSystem System => _system;

    public DeterministicWorld World => _world;

    public NetworkModel Network => _network;

    /// <summary>Node <paramref name="node"/>'s ring actor, or null when it is not started or crashed.</summary>
    public IActorRef? RingActorOf(int node) => _actors[node];

    public int ZoneOf(int node) => _zoneOf[node];

    public TimeSpan VirtualTime => _world.Elapsed;

    public long MessagesSent => _links.Sent;

    /// <summary>Messages lost on the way: to a crashed node, or dropped by the network model.</summary>
    public long MessagesDropped => _links.Dropped;

    public long JoinMessages => _links.JoinMessages;

    /// <summary>Routing-table maintenance messages sent so far (row requests and replies).</summary>
    public long TableMaintenanceMessages => _links.TableMaintenanceMessages;

    public int Started { get; private set; }

    /// <summary>Ring memberships completed (a gateway completes two: its zone ring and the global ring).</summary>
    public long Joined => _recorder.JoinedCount;

    public long ExpectedMemberships { get; }

    public long PeerFailures => _recorder.PeerFailures;

    public long RoutesAbandoned => _recorder.Abandoned;

    public int LiveNodes => Enumerable.Range(0, _actors.Length).Count(IsLive);

    public ImmutableArray<NodeId> Ids => [.. _ids];

    /// <summary>Started, finished joining its zone ring, and not crashed: a member of the overlay.</summary>
    public bool IsLive(int node) => _actors[node] is not null && _recorder.IsReady(node);

    /// <summary>Starts every node in virtual time and runs until all memberships completed; reports after each batch.</summary>
    public void Build(Action<int>? progress = null)
    {
        // Every 10 ms of virtual time, start JoinRate/100 nodes, but never more than the ring's growth limit allows
        // (a ring of n nodes takes at most n·GrowthPerSecond joins per second): a ring of ten nodes is not asked to
        // absorb a hundred concurrent joins.
        var tick = TimeSpan.FromMilliseconds(10);
        var due = 0.0;
        var index = 0;
        while (index < _joinOrder.Length)
        {
            due += Math.Min(_options.JoinRate, Math.Max(1, Started) * _options.GrowthPerSecond) * tick.TotalSeconds;
            for (; due >= 1 && index < _joinOrder.Length; due--)
            {
                Start(_joinOrder[index++]);
            }

            _world.Advance(tick);
            progress?.Invoke(Started);
        }

        // Wait until every membership completed, at most BuildTimeout of virtual time; UnfinishedJoins reports the rest.
        var expected = ExpectedMemberships;
        _world.RunUntil(() => _recorder.JoinedCount >= expected, _options.BuildTimeout);
    }

    /// <summary>Started nodes whose zone-ring join has not completed (they are not members and never count as one).</summary>
    public int UnfinishedJoins => Enumerable.Range(0, _actors.Length).Count(node => _actors[node] is not null && !_recorder.IsReady(node));

    /// <summary>The node whose uplink was busy longest so far: seconds spent serializing, messages sent, and the mean queueing wait per message.</summary>
    public (double BusySeconds, long Messages, double MeanWaitSeconds) BusiestUplink()
    {
        var busiest = Enumerable.Range(0, _actors.Length).Select(_network.Uplink).MaxBy(usage => usage.Busy);
        return (busiest.Busy.TotalSeconds, busiest.Messages, busiest.Messages == 0 ? 0 : busiest.Waited.TotalSeconds / busiest.Messages);
    }

    /// <summary>
    /// Runs <see cref="RingSimOptions.MaintenanceRounds"/> routing-table maintenance periods after the build: virtual time
    /// advances and every node's own maintenance timer fires (with heartbeats and leaf-set exchanges as usual). Returns
    /// the virtual time it took.
    /// </summary>
    public TimeSpan MaintainTables()
    {
        var duration = _settings.TableMaintenanceInterval * _options.MaintenanceRounds;
        _world.Advance(duration);
        return duration;
    }

    /// <summary>Lets maintenance run: leaf-set exchanges, heartbeats, failure detection and repair.</summary>
    public void Settle(TimeSpan duration) => _world.Advance(duration);

    /// <summary>Crashes <paramref name="percent"/> % of the live nodes at once (no leave notices; in-flight messages to them are lost).</summary>
    public int Crash(double percent)
    {
        var live = Enumerable.Range(0, _actors.Length).Where(node => _actors[node] is not null).ToArray();
        var count = (int)Math.Round(live.Length * percent / 100.0);
        _random.Shuffle(live);
        Crash(live.AsSpan(0, count));
        return count;
    }

    /// <summary>Crashes the given nodes at once.</summary>
    public void Crash(ReadOnlySpan<int> nodes)
    {
        foreach (var node in nodes)
        {
            _links.Detach(new NodeAddress(node));
            _system.Stop(_actors[node]!);
            _actors[node] = null;
        }

        _world.RunUntilIdle();
    }

    /// <summary>
    /// Routes <see cref="RingSimOptions.Lookups"/> random keys from random live nodes (10 per virtual millisecond),
    /// waits for them, and checks each delivery against the numerically closest live node of the target ring.
    /// </summary>
    public LookupReport MeasureLookups()
    {
        var liveByZone = Enumerable.Range(0, _options.Zones)
            .Select(zone => Enumerable.Range(0, _actors.Length).Where(node => IsLive(node) && _zoneOf[node] == zone).ToArray())
            .ToArray();
        var sortedByZone = liveByZone.Select(SortedIds).ToArray();
        var live = liveByZone.SelectMany(nodes => nodes).ToArray();
        var populatedZones = Enumerable.Range(0, _options.Zones).Where(zone => liveByZone[zone].Length > 0).ToArray();
        var expected = new NodeId[_options.Lookups];
        var keys = new NodeId[_options.Lookups];
        var targetZone = new int[_options.Lookups];
        _recorder.ResetLookups();
        Span<byte> bytes = stackalloc byte[16];
        for (var lookup = 0; lookup < _options.Lookups; lookup++)
        {
            var source = live[_random.Next(live.Length)];
            var zone = populatedZones[_random.Next(populatedZones.Length)];
            _random.NextBytes(bytes);
            var key = new NodeId(new UInt128(BitConverter.ToUInt64(bytes), BitConverter.ToUInt64(bytes[8..])));
            expected[lookup] = Closest(sortedByZone[zone], key);
            (keys[lookup], targetZone[lookup]) = (key, zone);
            _recorder.Begin(lookup, source, crossZone: zone != _zoneOf[source]);
            _actors[source]!.Tell(new RouteRequest(key, RingId.Zone(zone), new SimLookup(lookup)));
            if (lookup % 10 == 9)
            {
                _world.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        // Wait for the last lookups (at most 30 s): every virtual second of waiting costs a heartbeat round of all nodes.
        var abandonedBefore = _recorder.Abandoned;
        _world.RunUntil(() => _recorder.DeliveredLookups + (_recorder.Abandoned - abandonedBefore) >= _options.Lookups, TimeSpan.FromSeconds(30));
        // Joins still on their way when the lookups started (only with a build cut short by --build-timeout) may finish
        // during them; a delivery to such a node is judged against the members at the end (see RingSimRecorder.Report).
        var memberAtStart = new bool[_actors.Length];
        Array.ForEach(live, node => memberAtStart[node] = true);
        var sortedAtEnd = Enumerable.Range(0, _options.Zones)
            .Select(zone => SortedIds(Enumerable.Range(0, _actors.Length).Where(node => IsLive(node) && _zoneOf[node] == zone).ToArray()))
            .ToArray();
        return _recorder.Report(node => _ids[node], expected, live.Length, (lookup, node) =>
            !memberAtStart[node] && IsLive(node) && _ids[node] == Closest(sortedAtEnd[targetZone[lookup]], keys[lookup]));
    }

    /// <summary>Per-node state of up to <paramref name="sample"/> random live nodes, read through <see cref="GetRingState"/>.</summary>
    public StateReport MeasureState(int sample)
    {
        var live = Enumerable.Range(0, _actors.Length).Where(IsLive).ToArray();
        _random.Shuffle(live);
        var chosen = live.Take(sample).ToArray();
        var tasks = chosen.Select(node => _actors[node]!.Ask<RingStateSnapshot>(GetRingState.Instance, TimeSpan.FromSeconds(10))).ToArray();
        _world.RunUntilIdle();
        double bytes = 0, entries = 0, leaves = 0, table = 0;
        foreach (var task in tasks)
        {
            var state = task.Result.State;
            foreach (var ring in new[] { state.ZoneRing, state.GlobalRing })
            {
                if (ring is null)
                {
                    continue;
                }

                bytes += ring.ApproximateBytes();
                var leafCount = ring.Leaves.Clockwise.Length + ring.Leaves.CounterClockwise.Length;
                leaves += ring == state.ZoneRing ? leafCount : 0;
                table += ring == state.ZoneRing ? ring.Table.Count : 0;
                entries += leafCount + ring.Table.Count + ring.Neighbors.Entries.Length;
            }
        }

        var n = Math.Max(1, tasks.Length);
        return new StateReport(tasks.Length, bytes / n, entries / n, leaves / n, table / n);
    }

    /// <summary>Every node's zone-ring state (index order; null for nodes that are not live), read through <see cref="GetRingState"/>.</summary>
    public ImmutableArray<RingNodeState?> ZoneRingStates()
    {
        // In batches: an ask (promise, task, timeout) is several hundred bytes, and 10⁶ at once raised the run's peak
        // memory by about a GiB after the build.
        const int Batch = 10_000;
        var states = new RingNodeState?[_actors.Length];
        var tasks = new Task<RingStateSnapshot>?[Math.Min(Batch, _actors.Length)];
        for (var first = 0; first < _actors.Length; first += Batch)
        {
            var count = Math.Min(Batch, _actors.Length - first);
            for (var i = 0; i < count; i++)
            {
                tasks[i] = IsLive(first + i) ? _actors[first + i]!.Ask<RingStateSnapshot>(GetRingState.Instance, TimeSpan.FromSeconds(10)) : null;
            }

            _world.RunUntilIdle();
            for (var i = 0; i < count; i++)
            {
                states[first + i] = tasks[i]?.Result.State.ZoneRing;
                tasks[i] = null;
            }
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(states);
    }

    /// <summary>
    /// Routing-table completeness of every live node against its zone's live membership, and <paramref name="lookups"/>
    /// routes replayed over a snapshot of zone 0's states to see which rule each hop used (<see cref="RingTableAudit"/>).
    /// Reads every node's state; uses its own random sequence, so it does not change the rest of the run.
    /// </summary>
    public (TableAudit Tables, RouteAudit Routes) AuditRouting(int lookups)
    {
        var states = ZoneRingStates();
        var live = Enumerable.Range(0, _actors.Length).Where(node => states[node] is not null).ToArray();
        var sortedByZone = Enumerable.Range(0, _options.Zones).Select(zone => SortedIds(live.Where(node => _zoneOf[node] == zone).ToArray())).ToArray();
        var tableParts = Enumerable.Range(0, _options.Zones)
            .Select(zone => RingTableAudit.Tables([.. live.Where(node => _zoneOf[node] == zone).Select(node => states[node]!)], sortedByZone[zone]))
            .Where(part => part.Nodes > 0)
            .ToArray();
        var tables = tableParts.Length == 1 ? tableParts[0] : Combine(tableParts);
        var zoneZero = states.Select((state, node) => _zoneOf[node] == 0 ? state : null).ToArray();
        return (tables, RingTableAudit.Routes(zoneZero, sortedByZone[0], lookups, new Random(_options.Seed + 1)));
    }

    private static TableAudit Combine(TableAudit[] parts)
    {
        var nodes = parts.Sum(part => part.Nodes);
        if (nodes == 0)
        {
            return TableAudit.Empty;
        }

        double Weighted(Func<TableAudit, double> value) => parts.Sum(part => value(part) * part.Nodes) / nodes;
        var rows = parts.Max(part => part.HolesPerNodeByRow.Length);
        var ideal = Weighted(part => part.IdealSlotsPerNode);
        var filled = Weighted(part => part.FilledSlotsPerNode);
        return new TableAudit(nodes, ideal, filled, ideal == 0 ? 1 : filled / ideal,
            [.. Enumerable.Range(0, rows).Select(row => Weighted(part => row < part.HolesPerNodeByRow.Length ? part.HolesPerNodeByRow[row] : 0))]);
    }

    /// <summary>True when every sampled live node's zone leaf set holds exactly the L/2 nearest live zone members on each side.</summary>
    public int CountWrongLeafSets(int sample)
    {
        var live = Enumerable.Range(0, _actors.Length).Where(IsLive).ToArray();
        var sortedByZone = Enumerable.Range(0, _options.Zones).Select(zone => SortedIds(live.Where(node => _zoneOf[node] == zone).ToArray())).ToArray();
        _random.Shuffle(live);
        var chosen = live.Take(sample).ToArray();
        var tasks = chosen.Select(node => _actors[node]!.Ask<RingStateSnapshot>(GetRingState.Instance, TimeSpan.FromSeconds(10))).ToArray();
        _world.RunUntilIdle();
        var wrong = 0;
        for (var i = 0; i < chosen.Length; i++)
        {
            var ring = tasks[i].Result.State.ZoneRing;
            var sorted = sortedByZone[_zoneOf[chosen[i]]];
            wrong += LeafSetIsExact(ring, sorted) ? 0 : 1;
        }

        return wrong;
    }

    private bool LeafSetIsExact(RingNodeState ring, NodeId[] sorted)
    {
        var half = Math.Min(_settings.LeafSetSize / 2, (sorted.Length - 1) / 2);
        var at = Array.BinarySearch(sorted, ring.Self.Id);
        for (var step = 1; step <= half; step++)
        {
            if (!ring.Leaves.IsOnClockwiseSide(sorted[(at + step) % sorted.Length]) ||
                !ring.Leaves.IsOnCounterClockwiseSide(sorted[(at - step + sorted.Length) % sorted.Length]))
            {
                return false;
            }
        }

        return true;
    }

    private NodeId[] SortedIds(int[] nodes)
    {
        var sorted = nodes.Select(node => _ids[node]).ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    /// <summary>The numerically closest id to <paramref name="key"/> on the circle, by binary search in a sorted array.</summary>
    private static NodeId Closest(NodeId[] sorted, NodeId key)
    {
        var at = Array.BinarySearch(sorted, key);
        if (at >= 0)
        {
            return sorted[at];
        }

        var above = sorted[~at % sorted.Length];
        var below = sorted[(~at - 1 + sorted.Length) % sorted.Length];
        return below.IsCloserTo(key, above) ? below : above;
    }

    private void Start(int node)
    {
        var zone = _zoneOf[node];
        var zoneMembers = _startedByZone[zone];
        var self = new NodeHandle(_ids[node], new NodeAddress(node));
        var start = new RingMembershipStart(
            self,
            zone,
            _settings,
            zoneMembers.Count == 0 ? null : new NodeAddress(Nearby(node, zoneMembers)),
            _isGateway[node],
            _startedGateways.Count == 0 ? null : new NodeAddress(Nearby(node, _startedGateways)));
        var actor = _system.ActorOf(RingMembershipActor.Props(start, _links, new SimNodeApplication(_recorder, node), _subscribers));
        _links.Attach(self.Address, actor);
        _actors[node] = actor;
        zoneMembers.Add(node);
        if (_isGateway[node])
        {
            _startedGateways.Add(node);
        }

        Started++;
    }

    /// <summary>The lowest-RTT node of a few random started ones, preferring those that finished joining: a newcomer's "nearby node it knows".</summary>
    private int Nearby(int node, List<int> candidates)
    {
        var best = -1;
        var bestRtt = TimeSpan.MaxValue;
        for (var i = 0; i < BootstrapSample * 2 && (best < 0 || i < BootstrapSample); i++)
        {
            var candidate = candidates[_random.Next(candidates.Count)];
            var rtt = _network.BaseRtt(node, candidate);
            if (_actors[candidate] is not null && _recorder.IsReady(candidate) && rtt < bestRtt)
            {
                best = candidate;
                bestRtt = rtt;
            }
        }

        return best >= 0 ? best : candidates[^1];
    }
}

/// <summary>A simulated lookup; its id indexes the recorder's arrays.</summary>
internal sealed record SimLookup(int Id);
