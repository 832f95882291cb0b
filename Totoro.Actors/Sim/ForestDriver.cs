using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Sim;

/// <summary>
/// The forest protocol on a simulated network, in one process: N nodes, each a <see cref="MultiRingNodeState"/> (one
/// zone ring, plus the global ring for gateways) and a <see cref="ForestState"/>, driven by a virtual-time queue
/// through the <see cref="NetworkModel"/>. <c>totoro sim fl</c> grows its trees with it; the forest tests drive it
/// as <c>ForestWorld</c>. It performs effects the way the actor shell will: ring forward upcalls through a
/// <see cref="ForestRouteApplication"/>, ring deliveries and <c>PeerFailed</c> into the forest, forest routes into
/// the ring. A forest send to a crashed node comes back to the sender as a peer failure after <see cref="HopTimeout"/>.
/// </summary>
internal partial class ForestDriver
{
    private readonly MultiRingNodeState?[] rings;
    private readonly ForestState?[] forests;
    private readonly bool[] up;
    private readonly NodeId[] ids;
    private readonly HashSet<int> gateways = [];
    private readonly PriorityQueue<Pending, (long Ticks, long Sequence)> queue = new();
    private readonly Dictionary<(int Node, object Timer), long> timerGenerations = [];
    private readonly ForestSettings forestSettings;
    private readonly FoldCombiners combiners;
    private long sequence;

    public ForestDriver(int nodes, int zones, int seed, ForestSettings? forestSettings = null, IEnumerable<IFoldCombiner>? combiners = null, int gatewaysPerZone = 2)
        : this(TopologyGenerator.Generate(zones, nodes, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(seed)), seed, forestSettings, combiners, gatewaysPerZone)
    {
    }

    /// <summary>A driver over a given network: node i of <paramref name="topology"/> is forest node i.</summary>
    public ForestDriver(NetworkTopology topology, int seed, ForestSettings? forestSettings = null, IEnumerable<IFoldCombiner>? combiners = null, int gatewaysPerZone = 2)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var nodes = topology.Nodes.Length;
        var zones = topology.ZoneCentres.Length;
        Random = new Random(seed);
        Seed = seed;
        Topology = topology;
        Network = new NetworkModel(Topology, NetworkSettings.Default, seed);
        rings = new MultiRingNodeState?[nodes];
        forests = new ForestState?[nodes];
        up = new bool[nodes];
        ids = [.. Enumerable.Range(0, nodes).Select(_ => RandomId(Random))];
        this.forestSettings = forestSettings ?? ForestSettings.Default;
        this.combiners = new FoldCombiners(combiners ?? []);
        if (zones > 1)
        {
            for (var zone = 0; zone < zones; zone++)
            {
                var members = Enumerable.Range(0, nodes).Where(n => Topology.Nodes[n].Zone == zone).ToList();
                var chosen = ZoneKeys.SelectGateways(members.Select(n => ids[n]), zone, gatewaysPerZone);
                gateways.UnionWith(members.Where(n => chosen.Contains(ids[n])));
            }
        }
    }

    public int Seed { get; }

    public Random Random { get; }

    public NetworkTopology Topology { get; }

    public NetworkModel Network { get; }

    public TimeSpan Now { get; private set; }

    public TimeSpan HopTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long until a forest send to a crashed node is reported back to the sender as a peer failure.</summary>
    public TimeSpan ForestFailureDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the ring's <c>PeerFailed</c> reaches the forest (off: the forest must notice on its own).</summary>
    public bool ReportRingPeerFailures { get; set; } = true;

    public int Count => rings.Length;

    public IReadOnlyList<NodeId> Ids => ids;

    /// <summary>Every forest report, with the node that emitted it and when.</summary>
    public List<(int Node, ForestReport Report, TimeSpan At)> Reports { get; } = [];

    /// <summary>Multicasts handed to applications: (node, topic, message id).</summary>
    public List<(int Node, TopicId Topic, long MessageId)> AppDeliveries { get; } = [];

    /// <summary>Every forest message put on the wire: (from, to, message).</summary>
    public List<(int From, int To, ForestMessage Message)> Sent { get; } = [];

    /// <summary>Multicasts and fold partials that reached a node holding no tree of their topic when they arrived.</summary>
    public List<(int Node, ForestMessage Message)> Strays { get; } = [];

    public List<RouteAbandoned> Abandoned { get; } = [];

    /// <summary>What a subscriber contributes when a publish opens a fold round; null abstains.</summary>
    public Func<int, TopicId, long, object?>? Contribution { get; set; }

    public TimeSpan TrainingTime { get; set; } = TimeSpan.FromMilliseconds(300);

    public IEnumerable<int> LiveNodes => Enumerable.Range(0, Count).Where(n => up[n]);

    public ForestState Forest(int node) => forests[node]!;

    public int ZoneOf(int node) => Topology.Nodes[node].Zone;

    public bool IsUp(int node) => up[node];

    /// <summary>The rings' settings (defaults: <see cref="RingSettings.Default"/>).</summary>
    public RingSettings RingSettings { get; init; } = RingSettings.Default;

    /// <summary>
    /// Starts every node (joining its zone ring, gateways also the global ring), one every <paramref name="spacing"/>,
    /// and lets the rings run for <paramref name="settle"/> (15 s unless given) after the last start.
    /// </summary>
    public void Build(TimeSpan spacing, TimeSpan? settle = null)
    {
        var startedInZone = new Dictionary<int, List<int>>();
        var startedGateways = new List<int>();
        var settings = RingSettings;
        for (var node = 0; node < Count; node++)
        {
            var self = node;
            At(spacing * node, () =>
            {
                var zone = ZoneOf(self);
                var members = startedInZone.TryGetValue(zone, out var list) ? list : startedInZone[zone] = [];
                var handle = new NodeHandle(ids[self], new NodeAddress(self));
                var zoneStep = members.Count == 0
                    ? RingNodeState.CreateFirst(handle, settings, LowestRttPlanner.Instance)
                    : RingNodeState.CreateJoining(handle, new NodeAddress(members[Random.Next(members.Count)]), settings, LowestRttPlanner.Instance);
                RingStep<RingNodeState>? globalStep = null;
                if (gateways.Contains(self))
                {
                    var globalHandle = new NodeHandle(ZoneKeys.GlobalIdFor(zone, ids[self]), new NodeAddress(self));
                    globalStep = startedGateways.Count == 0
                        ? RingNodeState.CreateFirst(globalHandle, settings, LowestRttPlanner.Instance)
                        : RingNodeState.CreateJoining(globalHandle, new NodeAddress(startedGateways[Random.Next(startedGateways.Count)]), settings, LowestRttPlanner.Instance);
                    startedGateways.Add(self);
                }

                var step = MultiRingNodeState.Compose(zone, zoneStep, globalStep);
                rings[self] = step.State;
                up[self] = true;
                members.Add(self);
                PerformRing(self, step.Effects);
                var forest = ForestState.Create(handle, zone, forestSettings, combiners);
                forests[self] = forest.State;
                PerformForest(self, forest.Effects);
            });
        }

        RunFor((spacing * Count) + (settle ?? TimeSpan.FromSeconds(15)));
    }

    public void Crash(int node) => up[node] = false;

    public void Subscribe(int node, TopicId topic, int homeZone = 0) => Apply(node, forests[node]!.Subscribe(topic, homeZone, Now));

    public void Unsubscribe(int node, TopicId topic) => Apply(node, forests[node]!.Unsubscribe(topic));

    public void Publish(int node, TopicId topic, long messageId, FoldRequest? fold, BlobRef? blob = null) =>
        Apply(node, forests[node]!.Publish(topic, messageId, new MulticastContent("model", blob), fold, Now));

    /// <summary>The node that considers itself the home root of <paramref name="topic"/> (alive), if exactly one does.</summary>
    public int? RootOf(TopicId topic)
    {
        var roots = LiveNodes.Where(n => forests[n]!.Trees.GetValueOrDefault(topic) is { IsHomeRoot: true }).ToList();
        return roots.Count == 1 ? roots[0] : null;
    }

    public int ClosestLiveInZone(NodeId key, int zone) =>
        LiveNodes.Where(n => ZoneOf(n) == zone).Aggregate((best, n) => ids[n].IsCloserTo(key, ids[best]) ? n : best);

    /// <summary>Depth of each live member, following parent pointers; throws if a walk revisits a node (a loop) or hits a dead or foreign parent.</summary>
    public Dictionary<int, int> WalkToRoot(TopicId topic)
    {
        var depths = new Dictionary<int, int>();
        foreach (var node in LiveNodes.Where(n => forests[n]!.Trees.ContainsKey(topic)))
        {
            var seen = new HashSet<int> { node };
            var current = node;
            while (forests[current]!.Trees[topic] is { IsHomeRoot: false } tree)
            {
                var parent = (tree.Parent ?? throw new InvalidOperationException($"node {current} is detached from {topic}")).Address.Value;
                if (!up[parent] || !forests[parent]!.Trees.TryGetValue(topic, out var parentTree) || parentTree.IndexOfChild(ids[current]) < 0)
                {
                    throw new InvalidOperationException($"node {current}: parent {parent} is down, not in {topic}, or does not list it as a child");
                }

                if (!seen.Add(parent))
                {
                    throw new InvalidOperationException($"loop through node {parent} in {topic}");
                }

                current = parent;
            }

            depths[node] = seen.Count - 1;
        }

        return depths;
    }

    /// <summary>The nodes above <paramref name="node"/> (its parent first), by parent pointers.</summary>
    public List<int> WalkToRootPath(TopicId topic, int node)
    {
        var path = new List<int>();
        var current = node;
        while (forests[current]!.Trees.GetValueOrDefault(topic)?.Parent is { } parent && path.Count < Count)
        {
            current = parent.Address.Value;
            path.Add(current);
        }

        return path;
    }

    /// <summary>A uniformly random 128-bit ring id.</summary>
    public static NodeId RandomId(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new NodeId(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes));
    }
}
